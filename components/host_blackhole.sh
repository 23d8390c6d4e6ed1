# steadystate dependency blackhole, run by SSM Run Command (aws:runShellScript) on an ECS host.
# For DurationSeconds, drop the traffic of the containers of the tasks of Families (docker label
# com.amazonaws.ecs.task-definition-family) to Host, whatever address the container resolved it
# to. The containers resolve Host themselves, and a CDN answers each query differently, so rules
# on the addresses this host resolves can miss the one a container got. The cut is therefore by
# name first: each container's TCP packets that carry Host as a TLS server name (the SNI entry of
# a ClientHello: name type 0, two-byte length, the name) or as an HTTP Host header are dropped,
# whatever their destination, so no new connection to Host gets through. The addresses Host
# resolves to here are dropped too, which also cuts connections opened before the cut. All rules
# live in a chain of their own, reached from DOCKER-USER by one jump tagged by comment; the
# chain is re-filled every ResolveEverySeconds (ECS replaces tasks, CDN addresses rotate). The
# jump and the chain go at the end, on TERM/INT/HUP (FIS cancels the command when the
# experiment stops), and - if this shell is killed outright - from a detached reaper at the
# deadline. A kernel without the string match refuses the name rules: the run then stops
# before the cut, with an error, instead of cutting by address alone. SSM replaces the
# double-brace parameter references below with values its allowedPattern admitted; the script
# checks them again.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

FAMILIES='{{ Families }}'
HOST='{{ Host }}'
DURATION='{{ DurationSeconds }}'
EVERY='{{ ResolveEverySeconds }}'

FAMILY_RE='^[A-Za-z0-9_-]{1,255}(,[A-Za-z0-9_-]{1,255}){0,19}$'
HOST_RE='^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$'
MAX_HOST_CHARS=200
DURATION_RE='^[1-9][0-9]{0,4}$'
EVERY_RE='^[1-9][0-9]?$'
MAX_DURATION=43200
CHAIN=DOCKER-USER
LABEL=com.amazonaws.ecs.task-definition-family

refuse() {
  echo "blackhole: parameter $1 must match $2 (got '$3'); nothing changed" >&2
  exit 2
}
[[ $FAMILIES =~ $FAMILY_RE ]] || refuse Families "$FAMILY_RE" "$FAMILIES"
if ! [[ $HOST =~ $HOST_RE ]] || ((${#HOST} > MAX_HOST_CHARS)); then
  refuse Host "$HOST_RE (at most $MAX_HOST_CHARS characters)" "$HOST"
fi
if ! [[ $DURATION =~ $DURATION_RE ]] || ((DURATION > MAX_DURATION)); then
  refuse DurationSeconds "1-$MAX_DURATION" "$DURATION"
fi
[[ $EVERY =~ $EVERY_RE ]] || refuse ResolveEverySeconds "$EVERY_RE" "$EVERY"
# only [A-Za-z0-9_-]: iptables -S then prints the comment unquoted, as cleanup matches it
TAG="steadystate-blackhole-${HOST//./_}"
# the run's own chain: a name of iptables' at most 28 characters, one per Host
CUT="sbh-$(printf '%s' "$HOST" | sha256sum | cut -c1-16)"
# TLS: the server_name entry (type 0, length, name) as RFC 6066 section 3 puts it on the wire
printf -v SNI '|00 %02x %02x|%s' $((${#HOST} >> 8)) $((${#HOST} & 255)) "$HOST"
# HTTP/1.1: the Host header (a header name is case-insensitive; --icase)
HTTP_HOST="|0d 0a|host: $HOST"

# remove the jumps to our chain tagged TAG (and rules an older version tagged), then the chain
cleanup() {
  local listing line removed=0
  local -a rule
  listing=$(iptables -w -S "$CHAIN" 2>/dev/null) || return 0
  while IFS= read -r line; do
    case "$line" in
      "-A $CHAIN "*" --comment $TAG -j "*)
        read -r -a rule <<<"${line/#-A /-D }"
        iptables -w "${rule[@]}" && removed=$((removed + 1))
        ;;
    esac
  done <<<"$listing"
  if iptables -w -F "$CUT" 2>/dev/null && iptables -w -X "$CUT"; then
    echo "blackhole: removed chain $CUT"
  fi
  echo "blackhole: removed $removed rule(s) tagged $TAG"
}

if ! iptables -w -S "$CHAIN" >/dev/null 2>&1; then
  echo "blackhole: no iptables chain $CHAIN (is docker running?); nothing changed" >&2
  exit 1
fi
cleanup # rules a killed earlier run left behind
if ! iptables -w -N "$CUT" ||
  ! iptables -w -I "$CHAIN" -m comment --comment "$TAG" -j "$CUT"; then
  cleanup
  echo "blackhole: could not create chain $CUT and its jump; nothing changed" >&2
  exit 1
fi

deadline=$((EPOCHSECONDS + DURATION))
# a detached reaper removes the rules at the deadline even if this shell is killed (SIGKILL)
setsid bash -c "$(declare -f cleanup); CHAIN=$(printf %q "$CHAIN"); TAG=$(printf %q "$TAG")
  CUT=$(printf %q "$CUT"); sleep $((DURATION + 2)); cleanup" >/dev/null 2>&1 </dev/null &
reaper=$!
echo "blackhole: reaper pid $reaper"

sleeper=
finish() {
  trap - TERM INT HUP
  kill "$reaper" ${sleeper:+"$sleeper"} 2>/dev/null
  cleanup
  echo "blackhole: $1"
  exit "$2"
}
trap 'finish "stopped by signal" 143' TERM
trap 'finish "interrupted" 130' INT HUP

declare -A blocked=() named=() addresses=()
# docker's Go template, assembled so that no double brace reaches SSM's parameter substitution
lb='{''{' rb='}''}'
ip_format="${lb}range .NetworkSettings.Networks${rb}${lb}.IPAddress${rb} ${lb}end${rb}"

containers() {
  local family
  for family in ${FAMILIES//,/ }; do
    docker ps -q --no-trunc --filter "label=$LABEL=$family"
  done
}

# drop what src sends with Host in it, to any address; status 3 if the kernel refuses
cut_by_name() {
  local src=$1 pattern
  for pattern in "$SNI" "$HTTP_HOST"; do
    if ! iptables -w -A "$CUT" -s "$src" -p tcp \
      -m string --algo bm --icase --hex-string "$pattern" -j DROP; then
      return 3
    fi
  done
}

block() {
  local id addr src dst
  while read -r addr _; do
    [[ $addr =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] && addresses[$addr]=1
  done < <(getent ahostsv4 "$HOST")
  for id in $(containers); do
    for src in $(docker inspect --format "$ip_format" "$id" 2>/dev/null); do
      if [[ -z ${named[$src]:-} ]]; then
        if ! cut_by_name "$src"; then
          echo "blackhole: the kernel refused the string match (xt_string), so the cut could" \
            "only follow the addresses this host resolves, not the container's own" >&2
          finish "refused: no cut by name" 3
        fi
        named[$src]=1
        echo "blackhole: dropping $src (container ${id:0:12}) -> any address, named $HOST"
      fi
      for dst in "${!addresses[@]}"; do
        [[ -n ${blocked[$src/$dst]:-} ]] && continue
        if iptables -w -A "$CUT" -s "$src" -d "$dst" -j DROP; then
          blocked[$src/$dst]=1
          echo "blackhole: dropping $src (container ${id:0:12}) -> $dst ($HOST)"
        fi
      done
    done
  done
}

echo "blackhole: $HOST for ${DURATION}s from the tasks of $FAMILIES"
while ((EPOCHSECONDS < deadline)); do
  block
  left=$((deadline - EPOCHSECONDS))
  ((left > 0)) || break
  sleep $((left < EVERY ? left : EVERY)) &
  sleeper=$!
  wait "$sleeper" # a signal interrupts the wait, so TERM is handled at once
  sleeper=
done
finish "done after ${DURATION}s" 0
