# Functions shared by build.sh and base.sh (sourced, not run).

images_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
podman="$images_dir/podman"

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# apt_sources SUITE [APT_DIR]: prints "URI SUITE" for each Debian source this machine's apt uses
# for SUITE, SUITE-updates and SUITE-security (component main, type deb, not disabled), from
# APT_DIR (default /etc/apt)/sources.list and sources.list.d (one-line and deb822 formats). The
# images come from the same mirror as the host's packages, which on build machines and CI is
# often the only archive reachable.
apt_sources() {
  local suite="$1" apt_dir="${2:-/etc/apt}" files=()
  if [ -f "$apt_dir/sources.list" ]; then files+=("$apt_dir/sources.list"); fi
  shopt -s nullglob
  files+=("$apt_dir"/sources.list.d/*.list "$apt_dir"/sources.list.d/*.sources)
  shopt -u nullglob
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v suite="$suite" '
    function wanted(s) { return s == suite || s == suite "-updates" || s == suite "-security" }
    function has(list, word,   n, i, a) {
      n = split(list, a, /[ \t]+/)
      for (i = 1; i <= n; i++) if (a[i] == word) return 1
      return 0
    }
    function flush(   nu, ns, u, s, i, j) {
      if (types != "" && has(types, "deb") && has(comps, "main") && enabled != "no") {
        nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
        for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
          if (u[i] != "" && wanted(s[j])) print u[i], s[j]
      }
      types = uris = suites = comps = enabled = ""
    }
    FILENAME ~ /\.sources$/ {
      if (FILENAME != current) { flush(); current = FILENAME }
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^#/) next
      field = tolower($1); sub(/:$/, "", field); value = $0; sub(/^[^:]*:[ \t]*/, "", value)
      if (field == "types") types = value
      else if (field == "uris") uris = value
      else if (field == "suites") suites = value
      else if (field == "components") comps = value
      else if (field == "enabled") enabled = tolower(value)
      next
    }
    {
      if (current != "") { flush(); current = "" }
      line = $0; sub(/#.*/, "", line); sub(/\[[^]]*\]/, "", line)
      n = split(line, w, /[ \t]+/); k = 1; while (k <= n && w[k] == "") k++
      if (w[k] != "deb") next
      rest = ""; for (i = k + 3; i <= n; i++) rest = rest " " w[i]
      if (wanted(w[k + 2]) && has(rest, "main")) print w[k + 1], w[k + 2]
    }
    END { flush() }
  ' "${files[@]}" | awk '!seen[$0]++'
}

# The packages an image installs, from the list file: every package whose line names the image.
image_packages() {
  local image="$1"
  sed -e 's/#.*//' "$images_dir/packages" |
    awk -v image="$image" '{ for (i = 2; i <= NF; i++) if ($i == image) print $1 }'
}
