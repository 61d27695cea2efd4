// Screen <-> canvas pixels, and which layer a point is on. The overlay <svg> has the canvas as its viewBox
// and is stretched exactly over the shown picture, so one ratio per axis converts.

/** The canvas point under a pointer event (fractional canvas pixels). */
export function toCanvas(svg, canvas, clientX, clientY) {
  const box = svg.getBoundingClientRect();
  return {
    x: (clientX - box.left) * (canvas[0] / box.width),
    y: (clientY - box.top) * (canvas[1] / box.height),
  };
}

/** Canvas pixels per screen pixel (horizontal), for sizing handles that stay the same size on screen. */
export function canvasPerScreen(svg, canvas) {
  const box = svg.getBoundingClientRect();
  return box.width > 0 ? canvas[0] / box.width : 1;
}

/** The id of the topmost layer whose landed outline contains `point` (later layers are pasted on top). */
export function layerAt(paths, point) {
  const p = new DOMPoint(point.x, point.y);
  for (let i = paths.length - 1; i >= 0; i--) {
    if (paths[i].isPointInFill(p)) return paths[i].dataset.layer;
  }
  return null;
}

/** The resize ratio a handle dragged from `from` to `to` asks for, about `centre`. */
export function scaleAbout(centre, from, to) {
  const d0 = Math.hypot(from.x - centre[0], from.y - centre[1]);
  const d1 = Math.hypot(to.x - centre[0], to.y - centre[1]);
  return d0 > 0 ? d1 / d0 : 1;
}
