// Package ptytest opens pseudo-terminals for tests, with the Linux ioctls
// and no dependency.
package ptytest

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// Open returns the two ends of a new pseudo-terminal: the controller, which
// reads what is written to the terminal, and the terminal itself, to hand
// to a process as its stderr. It fails where /dev/ptmx is unavailable.
func Open() (controller, terminal *os.File, err error) {
	c, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, c.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		c.Close()
		return nil, nil, fmt.Errorf("ptytest: unlock: %w", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, c.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		c.Close()
		return nil, nil, fmt.Errorf("ptytest: terminal number: %w", e)
	}
	t, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, t, nil
}

// Capture reads everything written to the terminal of controller until
// the terminal's last holder closes it; wait returns it then.
func Capture(controller *os.File) (wait func() []byte) {
	var (
		buf []byte
		wg  sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		b := make([]byte, 4096)
		for {
			n, err := controller.Read(b)
			buf = append(buf, b[:n]...)
			if err != nil { // EIO once the terminal is closed everywhere
				return
			}
		}
	}()
	return func() []byte { wg.Wait(); return buf }
}
