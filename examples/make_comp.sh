#!/usr/bin/env bash
# Makes poster-comp.ora, the example comp for `dedit import`, as a designer would: GIMP 2.10 (Script-Fu, batch)
# puts the sun, copied out of the poster, on a new layer, shrinks it to 70% and drags it to the upper right,
# paints a stroke over the NEW badge on a layer named "remove badge", and pastes the sticker; Krita 5 saves
# it as OpenRaster (Debian's GIMP 2.10 has no OpenRaster plug-in). Needs gimp, krita, xvfb, imagemagick.
# The pictures are the project's own (make_pictures.py).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
cp "$HERE/pictures/poster.png" poster.png
cp "$HERE/pictures/sticker.png" sticker.png
# the sun as GIMP's "copy selection to a new layer" leaves it: the poster's pixels in its box, the mask as alpha
convert poster.png -crop 129x129+86+126 +repage \( "$HERE/pictures/sun-mask.png" -crop 129x129+86+126 +repage \) \
  -alpha off -compose CopyOpacity -composite PNG32:sun.png
convert -size 80x56 xc:none -fill white -draw "ellipse 40,28 38,26 0,360" PNG32:stroke.png
cat > comp.scm <<'SCM'
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "poster.png" "poster.png")))
       (sun (car (gimp-file-load-layer RUN-NONINTERACTIVE image "sun.png")))
       (stroke (car (gimp-file-load-layer RUN-NONINTERACTIVE image "stroke.png")))
       (sticker (car (gimp-file-load-layer RUN-NONINTERACTIVE image "sticker.png"))))
  (gimp-item-set-name (car (gimp-image-get-active-layer image)) "Background")
  (gimp-image-insert-layer image stroke 0 0)
  (gimp-item-set-name stroke "remove badge")
  (gimp-layer-set-offsets stroke 420 10)
  (gimp-image-insert-layer image sun 0 0)
  (gimp-item-set-name sun "sun")
  (gimp-layer-scale sun 90 90 TRUE)
  (gimp-layer-set-offsets sun 360 40)
  (gimp-image-insert-layer image sticker 0 0)
  (gimp-item-set-name sticker "sticker")
  (gimp-layer-set-offsets sticker 40 30)
  (file-psd-save RUN-NONINTERACTIVE image sun "comp.psd" "comp.psd" 1 0))
SCM
gimp -i -d -b "(load \"$WORK/comp.scm\")" -b '(gimp-quit 0)'
xvfb-run -a krita --nosplash comp.psd --export --export-filename poster-comp.ora >/dev/null 2>&1
cp poster-comp.ora "$HERE/poster-comp.ora"
