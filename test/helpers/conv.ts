// The float64 reference for 2D convolution that the convolution tests compare kernels with.
import { conv2dGeometry, type Conv2dOptions } from '../../kernels/conv2d.js';

/** A convolution's shapes: input [N, C, H, W], weight [O, C, kh, kw], stride and padding. */
export interface ConvShape {
  x: readonly number[];
  w: readonly number[];
  opts: Conv2dOptions;
}

/** A named test case of the convolution kernel tests. */
export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  opts: Conv2dOptions;
}

/**
 * The output y = conv2d(x, w) + b and, for the output gradient `dy` (null or empty: none),
 * the input, weight and bias gradients, by the definition's loops in float64.
 */
export function cpuConv(c: ConvShape, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array | null) {
  const g = conv2dGeometry(c.x, c.w, c.opts);
  const { N, C, H, W, O, kh, kw, sh, sw, ph, pw, Ho, Wo } = g;
  const y = new Float64Array(N * O * Ho * Wo);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(O);
  const hasDy = dy !== null && dy.length > 0;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oy = 0; oy < Ho; oy++)
        for (let ox = 0; ox < Wo; ox++) {
          const yi = ((n * O + o) * Ho + oy) * Wo + ox;
          const d = hasDy ? dy[yi] : 0;
          let s = b[o];
          db[o] += d;
          for (let ci = 0; ci < C; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * sh - ph + ky;
                const ix = ox * sw - pw + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const xi = ((n * C + ci) * H + iy) * W + ix;
                const wi = ((o * C + ci) * kh + ky) * kw + kx;
                s += x[xi] * w[wi];
                dx[xi] += d * w[wi];
                dw[wi] += d * x[xi];
              }
          y[yi] = s;
        }
  return { g, y, dx, dw, db };
}
