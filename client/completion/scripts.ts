/**
 * The completion scripts `kportctl completion SHELL` prints. Each is a thin shim: it hands the words typed so far to
 * `kportctl __complete` and offers what comes back, one candidate per line (a candidate ending in "/", a target kind,
 * gets no space after it). When nothing comes back, bash and zsh fall back to file names.
 */

/** The shells there is a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const BASH = `# kportctl completion for bash. Load it now with:  source <(kportctl completion bash)
# or for every shell:  kportctl completion bash > ~/.local/share/bash-completion/completions/kportctl
_kportctl() {
  local line
  COMPREPLY=()
  while IFS= read -r line; do
    [[ -n "$line" ]] && COMPREPLY+=("$line")
  done < <(kportctl __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  if [[ \${#COMPREPLY[@]} -eq 1 && "\${COMPREPLY[0]}" == */ ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -o default -F _kportctl kportctl
`;

const ZSH = `#compdef kportctl
# kportctl completion for zsh. Load it now with:  source <(kportctl completion zsh)   (after compinit)
# or for every shell:  kportctl completion zsh > "\${fpath[1]}/_kportctl"
_kportctl() {
  local -a lines plain kinds
  local line
  lines=("\${(@f)$(kportctl __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  for line in "\${lines[@]}"; do
    [[ -z "$line" ]] && continue
    if [[ "$line" == */ ]]; then kinds+=("$line"); else plain+=("$line"); fi
  done
  (( \${#plain} )) && compadd -Q -- "\${plain[@]}"
  (( \${#kinds} )) && compadd -Q -S '' -- "\${kinds[@]}"
  (( \${#plain} + \${#kinds} )) || _files
}
if [[ "\${funcstack[1]}" == _kportctl ]]; then
  _kportctl "$@"
else
  (( \${+functions[compdef]} )) && compdef _kportctl kportctl
fi
`;

const FISH = `# kportctl completion for fish. Load it now with:  kportctl completion fish | source
# or for every shell:  kportctl completion fish > ~/.config/fish/completions/kportctl.fish
function __kportctl_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    kportctl __complete $words[2..-1] "$current" 2>/dev/null
end
complete -c kportctl -f -a '(__kportctl_complete)'
`;

/** The script for `shell`. */
export function completionScript(shell: Shell): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
