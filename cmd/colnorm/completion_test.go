package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The bash script, run by bash against the built binary, completes command
// names, a command's flags and the methods after --method; zsh and fish get
// scripts of their own.
func TestCompletionScripts(t *testing.T) {
	bashPath, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash here")
	}
	bin := buildColnorm(t)
	script := filepath.Join(t.TempDir(), "colnorm.bash")
	out, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, out, 0o644); err != nil {
		t.Fatal(err)
	}
	// complete runs the script's function on a command line whose last
	// word is being completed, as bash does on TAB.
	complete := func(words ...string) []string {
		t.Helper()
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := "source " + script + "\n" +
			"COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n" +
			"_colnorm_complete; printf '%s\\n' \"${COMPREPLY[@]}\""
		cmd := exec.Command(bashPath, "--norc", "--noprofile", "-c", prog)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", words, err)
		}
		return strings.Fields(string(got))
	}
	check := func(got []string, want ...string) {
		t.Helper()
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("completed %v, want %v", got, want)
		}
	}
	check(complete("colnorm", "norm"), "normalize")
	check(complete("colnorm", "batch-correct", "--me"), "--memory", "--method", "--meta")
	check(complete("colnorm", "transform", "counts.tsv", "--nsu"), "--nsub")
	check(complete("colnorm", "transform", "--method", "v"), "vst")
	check(complete("colnorm", "size-factors", "-m", "tmm"), "tmm", "tmmwsp")
	all := complete("colnorm", "")
	for _, c := range []string{"size-factors", "normalize", "filter", "transform", "batch-correct", "qc", "convert", "demo", "completion"} {
		if !strings.Contains(" "+strings.Join(all, " ")+" ", " "+c+" ") {
			t.Errorf("command %s not among %v", c, all)
		}
	}

	for shell, want := range map[string]string{"zsh": "compdef _colnorm colnorm", "fish": "complete -c colnorm"} {
		out, err := exec.Command(bin, "completion", shell).Output()
		if err != nil || !strings.Contains(string(out), want) || !strings.Contains(string(out), "normalize") && shell == "fish" {
			t.Errorf("completion %s: %v\n%s", shell, err, out)
		}
	}
	if code, _, stderr := colnorm(t, "completion", "tcsh"); code != 2 || !strings.Contains(stderr, "bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, %q", code, stderr)
	}
}
