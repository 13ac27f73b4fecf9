package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// completionFlag is the hidden flag urfave/cli answers with the candidates
// for the next word (EnableBashCompletion): the commands, or with a word
// that starts with "-" the command's flags that start with it.
const completionFlag = "--generate-bash-completion"

func completionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "The script completes command names, flags and, after --method, the methods; file\n" +
			"names elsewhere. It asks colnorm itself for the candidates, so it follows the binary.\n\n" +
			"Examples:\n" +
			"  source <(colnorm completion bash)                       # this bash session\n" +
			"  colnorm completion bash > ~/.local/share/bash-completion/completions/colnorm\n" +
			"  colnorm completion zsh > \"${fpath[1]}/_colnorm\"          # zsh, then restart it\n" +
			"  colnorm completion fish > ~/.config/fish/completions/colnorm.fish",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion needs one shell: bash, zsh or fish")
			}
			return writeCompletion(e.stdout, c.App, c.Args().First())
		},
	}
}

// writeCompletion writes the completion script for shell.
func writeCompletion(w io.Writer, app *cli.App, shell string) error {
	switch shell {
	case "bash":
		_, err := io.WriteString(w, bashCompletion)
		return err
	case "zsh":
		_, err := io.WriteString(w, zshCompletion)
		return err
	case "fish":
		s, err := app.ToFishCompletion()
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, s)
		return err
	}
	return usagef("unknown shell %q: bash, zsh or fish", shell)
}

// bashCompletion asks the binary being completed (the command line's first
// word) for the candidates; with none, bash completes file names (-o
// default).
const bashCompletion = `# bash completion for colnorm (colnorm completion bash)
_colnorm_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local -a before=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
  local candidates
  if [[ $cur == -* ]]; then
    candidates=$("${COMP_WORDS[0]}" "${before[@]}" "$cur" ` + completionFlag + ` 2>/dev/null)
  else
    candidates=$("${COMP_WORDS[0]}" "${before[@]}" ` + completionFlag + ` 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -F _colnorm_complete colnorm
`

// zshCompletion does the same in zsh: the candidates, or file names.
const zshCompletion = `#compdef colnorm
# zsh completion for colnorm (colnorm completion zsh)
_colnorm() {
  local cur=${words[CURRENT]}
  local -a candidates
  if [[ $cur == -* ]]; then
    candidates=(${(f)"$(${words[1]} ${words[2,CURRENT-1]} $cur ` + completionFlag + ` 2>/dev/null)"})
  else
    candidates=(${(f)"$(${words[1]} ${words[2,CURRENT-1]} ` + completionFlag + ` 2>/dev/null)"})
  fi
  if (( ${#candidates} )); then
    compadd -a candidates
  else
    _files
  fi
}
compdef _colnorm colnorm
`

// completeMethods returns a BashComplete for a command: after --method (or
// -m) the method names, otherwise urfave/cli's default (flags, subcommands).
func completeMethods(methods ...string) cli.BashCompleteFunc {
	return func(c *cli.Context) {
		if prev := completionPrevious(); prev == "--method" || prev == "-m" {
			for _, m := range methods {
				fmt.Fprintln(c.App.Writer, m)
			}
			return
		}
		cli.DefaultCompleteWithFlags(c.Command)(c)
	}
}

// completionPrevious is the word before the one being completed: urfave/cli
// hands completion the process's own arguments, the last of them the
// completion flag.
func completionPrevious() string {
	if n := len(os.Args); n >= 2 {
		return os.Args[n-2]
	}
	return ""
}
