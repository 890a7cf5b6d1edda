// ResNet-50: stem conv 7x7 stride 2 (-> 64) + batchnorm + ReLU + max-pool 3x3 stride 2;
// bottleneck stages [3, 4, 6, 3] of widths 64/128/256/512 (outputs x4), stride 2 in the
// first block of stages 2-4 (on the 3x3 conv, as torchvision), projection shortcuts;
// global average pooling; linear 2048 -> classes. Parameter names follow torchvision's
// resnet50 (`conv1`, `layer2.0.downsample.0`, `fc`...).
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Random } from '../util/random.js';
import { Module, Sequential } from '../nn/module.js';
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d, GlobalAvgPool, Linear } from '../nn/layers.js';
import { add, relu } from '../ops/elementwise.js';

export const RESNET50_STAGES = [3, 4, 6, 3];

class Bottleneck extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(engine: Engine, rng: Random, inChannels: number, width: number, stride: number) {
    super(engine);
    const out = width * 4;
    this.conv1 = this.child('conv1', new Conv2d(engine, rng, inChannels, width, 1));
    this.bn1 = this.child('bn1', new BatchNorm2d(engine, width));
    this.conv2 = this.child('conv2', new Conv2d(engine, rng, width, width, 3, { stride, padding: 1 }));
    this.bn2 = this.child('bn2', new BatchNorm2d(engine, width));
    this.conv3 = this.child('conv3', new Conv2d(engine, rng, width, out, 1));
    this.bn3 = this.child('bn3', new BatchNorm2d(engine, out));
    this.downsample =
      stride !== 1 || inChannels !== out
        ? this.child('downsample', new Sequential(engine, [new Conv2d(engine, rng, inChannels, out, 1, { stride }), new BatchNorm2d(engine, out)]))
        : null;
  }

  forward(x: Tensor): Tensor {
    let h = relu(this.bn1.forward(this.conv1.forward(x)));
    h = relu(this.bn2.forward(this.conv2.forward(h)));
    h = this.bn3.forward(this.conv3.forward(h));
    return relu(add(h, this.downsample ? this.downsample.forward(x) : x));
  }
}

export class ResNet50 extends Module {
  readonly stem: Module[];
  readonly stages: Sequential[] = [];
  readonly pool: GlobalAvgPool;
  readonly fc: Linear;

  constructor(engine: Engine, opts: { seed?: number; classes?: number; inChannels?: number } = {}) {
    super(engine);
    const rng = new Random(opts.seed ?? 1);
    this.stem = [
      this.child('conv1', new Conv2d(engine, rng, opts.inChannels ?? 1, 64, 7, { stride: 2, padding: 3 })),
      this.child('bn1', new BatchNorm2d(engine, 64)),
      new ReLU(engine),
      new MaxPool2d(engine, 3, 2, 1),
    ];
    let c = 64;
    RESNET50_STAGES.forEach((blocks, s) => {
      const width = 64 * 2 ** s;
      const list: Module[] = [];
      for (let b = 0; b < blocks; b++) {
        list.push(new Bottleneck(engine, rng, c, width, b === 0 && s > 0 ? 2 : 1));
        c = width * 4;
      }
      this.stages.push(this.child(`layer${s + 1}`, new Sequential(engine, list)));
    });
    this.pool = new GlobalAvgPool(engine);
    this.fc = this.child('fc', new Linear(engine, rng, c, opts.classes ?? 4));
  }

  forward(x: Tensor): Tensor {
    let h = this.stem.reduce((t, m) => m.forward(t), x);
    for (const stage of this.stages) h = stage.forward(h);
    return this.fc.forward(this.pool.forward(h));
  }
}
