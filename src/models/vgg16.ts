// VGG-16 with batchnorm: the 13 convolutions of VGG-16 (max pooling between stages), each
// followed by batchnorm and ReLU; global average pooling; then linear 512->512, ReLU,
// dropout 0.5, linear 512->512, ReLU, dropout 0.5, linear 512->classes. Parameter names
// follow torchvision's vgg16_bn (`features.N`, `classifier.N`).
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Random } from '../util/random.js';
import { Module, Sequential } from '../nn/module.js';
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d, GlobalAvgPool, Dropout, Linear } from '../nn/layers.js';

export const VGG16_CONFIG: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export class VGG16 extends Module {
  readonly features: Sequential;
  readonly pool: GlobalAvgPool;
  readonly classifier: Sequential;

  constructor(engine: Engine, opts: { seed?: number; classes?: number; inChannels?: number } = {}) {
    super(engine);
    const rng = new Random(opts.seed ?? 1);
    const layers: Module[] = [];
    let c = opts.inChannels ?? 1;
    for (const v of VGG16_CONFIG) {
      if (v === 'M') {
        layers.push(new MaxPool2d(engine, 2));
      } else {
        layers.push(new Conv2d(engine, rng, c, v, 3, { padding: 1, bias: true }), new BatchNorm2d(engine, v), new ReLU(engine));
        c = v;
      }
    }
    this.features = this.child('features', new Sequential(engine, layers));
    this.pool = new GlobalAvgPool(engine);
    this.classifier = this.child(
      'classifier',
      new Sequential(engine, [
        new Linear(engine, rng, 512, 512),
        new ReLU(engine),
        new Dropout(engine, 0.5, rng.int(2 ** 31)),
        new Linear(engine, rng, 512, 512),
        new ReLU(engine),
        new Dropout(engine, 0.5, rng.int(2 ** 31)),
        new Linear(engine, rng, 512, opts.classes ?? 4),
      ]),
    );
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.pool.forward(this.features.forward(x)));
  }
}
