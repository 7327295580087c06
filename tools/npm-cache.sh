# Sourced by tools/emulators.sh and tools/browser.sh, which define log and die.
#
# npm_install DIR PKG VERSION: install PKG@VERSION into DIR unless already there.
# Installs into a temporary folder and renames it at the end, so an interrupted or
# concurrent install never leaves a half-filled DIR behind.
npm_install() {
  local dir=$1 pkg=$2 version=$3
  local marker=$dir/.installed
  if [[ -f $marker && $(<"$marker") == "$pkg@$version" ]]; then
    log "$pkg@$version already installed in $dir"
    return 0
  fi
  local tmp=$dir.partial.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  log "installing $pkg@$version into $dir ..."
  local t0=$SECONDS
  if ! npm install --no-audit --no-fund --save-exact --prefix "$tmp" "$pkg@$version" >"$tmp.log" 2>&1; then
    tail -n 30 "$tmp.log" >&2 || true
    rm -rf "$tmp"
    die "npm install $pkg@$version failed (log above)"
  fi
  local got
  got=$(node -p "require('$tmp/node_modules/$pkg/package.json').version")
  [[ $got == "$version" ]] || die "npm installed $pkg@$got, expected $version"
  printf '%s' "$pkg@$version" >"$tmp/.installed"
  mv "$tmp.log" "$tmp/npm-install.log"
  rm -rf "$dir"
  mv -T "$tmp" "$dir"
  log "installed $pkg@$version in $((SECONDS - t0))s"
}
