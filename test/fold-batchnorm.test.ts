// Inference with batchnorm folded into the convolution (and ReLU in its epilogue): the
// conv kernels' relu option against float64, and whole models in evaluation, fused (no
// tape) against unfused (taped), with random batchnorm statistics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine, withDispatchLabels, convVariants } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { conv2dForward } from '../kernels/conv2d.js';
import { createModel, type ModelName } from '../src/models/index.js';
import { withTape, noGrad } from '../src/autograd/tape.js';

const rng = testRandom('fold-batchnorm');
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

test('conv2d with relu in the epilogue matches float64 (both variants, wide, narrow, strided)', async () => {
  const e = await testEngine();
  const cases: { x: number[]; w: number[]; stride: number; padding: number }[] = [
    { x: [2, 3, 6, 16], w: [6, 3, 3, 3], stride: 1, padding: 1 },
    { x: [1, 2, 5, 5], w: [5, 2, 3, 3], stride: 1, padding: 1 },
    { x: [2, 2, 9, 8], w: [3, 2, 3, 3], stride: 2, padding: 1 },
  ];
  for (const c of cases) {
    const x = randomArray(rng, prod(c.x));
    const w = randomArray(rng, prod(c.w));
    const b = randomArray(rng, c.w[0]);
    const [N, C, H, W] = c.x;
    const [O, , k] = c.w;
    const Ho = Math.floor((H + 2 * c.padding - k) / c.stride) + 1;
    const Wo = Math.floor((W + 2 * c.padding - k) / c.stride) + 1;
    const want = new Float64Array(N * O * Ho * Wo);
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let oy = 0; oy < Ho; oy++)
          for (let ox = 0; ox < Wo; ox++) {
            let s = b[o];
            for (let ci = 0; ci < C; ci++)
              for (let ky = 0; ky < k; ky++)
                for (let kx = 0; kx < k; kx++) {
                  const iy = oy * c.stride - c.padding + ky;
                  const ix = ox * c.stride - c.padding + kx;
                  if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += x[((n * C + ci) * H + iy) * W + ix] * w[((o * C + ci) * k + ky) * k + kx];
                }
            want[((n * O + o) * Ho + oy) * Wo + ox] = Math.max(0, s);
          }
    for (const variant of convVariants(e)) {
      const got = await e.scopeAsync(() =>
        conv2dForward(e.fromArray(x, c.x), e.fromArray(w, c.w), e.fromArray(b, [O]), { stride: c.stride, padding: c.padding, relu: true, variant }).readFloat(),
      );
      assertClose(got, want, 2e-6 * Math.sqrt(C * k * k), `relu epilogue [${c.x}] ${variant}`);
    }
  }
});

/** Random gamma, beta and running statistics in every batchnorm of `model`. */
function randomiseBatchNorms(model: ReturnType<typeof createModel>): void {
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    const data =
      name.endsWith('running_var') ? randomArray(rng, t.size, 0.2, 2)
      : name.endsWith('running_mean') ? randomArray(rng, t.size, -0.5, 0.5)
      : /\.(weight|bias)$/.test(name) && t.shape.length === 1 ? randomArray(rng, t.size, 0.5, 1.5)
      : null;
    if (data) t.engine.write(t.buffer, data);
  }
}

for (const name of ['small', 'cnn5'] as ModelName[]) {
  test(`${name} in evaluation: folded (no tape) equals unfolded (taped), and skips the batchnorm passes`, async () => {
    const e = await testEngine();
    const model = createModel(name, e, { seed: rng.int(1000) });
    try {
      randomiseBatchNorms(model);
      model.eval();
      const shape = [2, 1, 37, 32]; // five 2x2 poolings leave 1 x 1
      const input = randomArray(rng, prod(shape), 0, 1);
      const run = async (fused: boolean) => {
        const { value: out, labels } = await withDispatchLabels(e, () =>
          e.scopeAsync(() => {
            const x = e.fromArray(input, shape);
            return (fused ? noGrad(e, () => model.forward(x)) : withTape(e, () => model.forward(x)).value).readFloat();
          }),
        );
        return { out, labels: new Set(labels) };
      };
      const unfused = await run(false);
      const fused = await run(true);
      assert.ok(unfused.labels.has('batchnorm.eval_stats'), 'the taped run normalises');
      assert.ok(![...fused.labels].some((l) => l.startsWith('batchnorm') || l.includes('relu')), `the folded run has no batchnorm or relu pass: ${[...fused.labels]}`);
      assertClose(fused.out, unfused.out, 1e-4, `${name} logits`);
    } finally {
      model.dispose();
    }
  });
}

test.run();
