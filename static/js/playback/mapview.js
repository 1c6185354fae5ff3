// A Web Mercator view of a canvas: centre, zoom and size, projection both ways, fitting a box, and the
// tiles of an XYZ raster basemap that cover it. Pure: no DOM, so it is unit-tested under Node.

export const TILE = 256;
export const MIN_ZOOM = 2;
export const MAX_ZOOM = 19;

function mercX(lon) {
  return (lon + 180) / 360;
}

function mercY(lat) {
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

export class MapView {
  constructor({ width = 800, height = 600, lat = 0, lon = 0, zoom = 12 } = {}) {
    this.width = width;
    this.height = height;
    this.lat = lat;
    this.lon = lon;
    this.zoom = zoom;
  }

  get scale() {
    return TILE * 2 ** this.zoom;
  }

  /** Pixel position of a point, relative to the canvas's top-left corner. */
  project(lat, lon) {
    const s = this.scale;
    return {
      x: this.width / 2 + (mercX(lon) - mercX(this.lon)) * s,
      y: this.height / 2 + (mercY(lat) - mercY(this.lat)) * s,
    };
  }

  /** The point at a pixel of the canvas. */
  unproject(x, y) {
    const s = this.scale;
    const mx = mercX(this.lon) + (x - this.width / 2) / s;
    const my = mercY(this.lat) + (y - this.height / 2) / s;
    const lon = mx * 360 - 180;
    const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * my))) * 180) / Math.PI;
    return { lat, lon };
  }

  /** Move the view by a drag of (dx, dy) pixels. */
  pan(dx, dy) {
    const centre = this.unproject(this.width / 2 - dx, this.height / 2 - dy);
    this.lat = centre.lat;
    this.lon = centre.lon;
  }

  /** Zoom by `delta` levels keeping the point under pixel (x, y) where it is. */
  zoomAround(delta, x, y) {
    const before = this.unproject(x, y);
    this.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, this.zoom + delta));
    const after = this.project(before.lat, before.lon);
    this.pan(x - after.x, y - after.y);
  }

  /** Centre and zoom so the box {lat_min, lon_min, lat_max, lon_max} fills `fill` of the view. */
  fit(bounds, fill = 0.85) {
    if (!bounds) return;
    this.lat = (bounds.lat_min + bounds.lat_max) / 2;
    this.lon = (bounds.lon_min + bounds.lon_max) / 2;
    const dx = Math.max(1e-9, mercX(bounds.lon_max) - mercX(bounds.lon_min));
    const dy = Math.max(1e-9, mercY(bounds.lat_min) - mercY(bounds.lat_max));
    const zx = Math.log2((this.width * fill) / (TILE * dx));
    const zy = Math.log2((this.height * fill) / (TILE * dy));
    this.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM - 2, Math.min(zx, zy)));
  }

  /** The tiles {z, x, y, left, top, size} of an XYZ pyramid covering the view at the nearest whole zoom. */
  tiles() {
    const z = Math.max(0, Math.min(MAX_ZOOM, Math.round(this.zoom)));
    const n = 2 ** z;
    const size = TILE * 2 ** (this.zoom - z);
    const topLeft = { x: mercX(this.lon) * n - this.width / 2 / size, y: mercY(this.lat) * n - this.height / 2 / size };
    const out = [];
    for (let ty = Math.floor(topLeft.y); ty < topLeft.y + this.height / size; ty++) {
      if (ty < 0 || ty >= n) continue;
      for (let tx = Math.floor(topLeft.x); tx < topLeft.x + this.width / size; tx++) {
        out.push({ z, x: ((tx % n) + n) % n, y: ty, left: (tx - topLeft.x) * size, top: (ty - topLeft.y) * size, size });
      }
    }
    return out;
  }
}
