// A trained model as an ONNX inference graph (opset 13): input `features` [N, 1, 373, 64]
// (time x Mel band, the front end's output), outputs `logits` and `probabilities` [N, classes].
// Inference mode: batchnorm as BatchNormalization nodes with the running statistics (epsilon
// 1e-5, as ours), dropout left out. A standardised model (the `paper` recipe,
// src/nn/input-norm.ts) starts with Sub and Div by its stored input_norm.mean/std: the std
// is floored when it is fitted, not when it is applied, so the graph divides by it as stored. The protobuf encoding is protobuf.js's, from the schema in
// onnx-schema.ts. Runs in onnxruntime (the tests compare its probabilities with ours).
import protobuf from 'protobufjs/light.js';
import type { Module } from '../nn/module.js';
import { Sequential } from '../nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool, Dropout, Linear } from '../nn/layers.js';
import { CNN5 } from '../models/cnn5.js';
import { SmallCNN } from '../models/small-cnn.js';
import { VGG16 } from '../models/vgg16.js';
import { ResNet50 } from '../models/resnet50.js';
import { Standardized } from '../nn/input-norm.js';
import { ONNX_SCHEMA, ONNX_FLOAT } from './onnx-schema.js';

export const ONNX_OPSET = 13;
const IR_VERSION = 7; // the IR of opset 13
const BN_EPS = 1e-5; // kernels/batchnorm.ts's default, PyTorch's too

interface Node {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  attribute: object[];
}

/** Builds the node list and the initializers while walking the model. */
class GraphBuilder {
  nodes: Node[] = [];
  initializers: { name: string; dims: number[]; data: Float32Array }[] = [];
  private count = 0;
  private names: Map<Tensor, string>;

  constructor(model: Module) {
    this.names = new Map(model.stateEntries().map(([n, t]) => [t, n]));
  }

  /** An initializer for a model tensor, under its state_dict name. */
  async weight(t: Tensor): Promise<string> {
    const name = this.names.get(t);
    if (!name) throw new Error('onnx export: a layer tensor is not in the model state');
    if (!this.initializers.some((i) => i.name === name)) this.initializers.push({ name, dims: [...t.shape], data: (await t.read()) as Float32Array });
    return name;
  }

  constant(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  node(opType: string, input: string[], attrs: Record<string, number | number[]> = {}): string {
    const out = `${opType.toLowerCase()}_${this.count++}`;
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? { name, type: 7, ints: v } : Number.isInteger(v) && name !== 'epsilon' ? { name, type: 2, i: v } : { name, type: 1, f: v },
    );
    this.nodes.push({ opType, input, output: [out], name: out, attribute });
    return out;
  }
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

/** One layer; returns the output's name. Dropout is the identity in inference. */
async function layer(g: GraphBuilder, m: Module, x: string): Promise<string> {
  if (m instanceof Sequential) {
    for (const l of m.layers) x = await layer(g, l, x);
    return x;
  }
  if (m instanceof Conv2d) {
    const [kh, kw] = [m.weight.shape[2], m.weight.shape[3]];
    const [ph, pw] = pair(m.opts.padding, 0);
    const inputs = [x, await g.weight(m.weight)];
    if (m.bias) inputs.push(await g.weight(m.bias));
    return g.node('Conv', inputs, { kernel_shape: [kh, kw], pads: [ph, pw, ph, pw], strides: pair(m.opts.stride, 1) });
  }
  if (m instanceof BatchNorm2d) {
    const s = m.state;
    return g.node('BatchNormalization', [x, await g.weight(s.gamma), await g.weight(s.beta), await g.weight(s.runningMean), await g.weight(s.runningVar)], { epsilon: BN_EPS });
  }
  if (m instanceof ReLU) return g.node('Relu', [x]);
  if (m instanceof MaxPool2d || m instanceof AvgPool2d) {
    const p = m.padding;
    const attrs: Record<string, number | number[]> = { kernel_shape: [m.kernel, m.kernel], strides: [m.stride, m.stride], pads: [p, p, p, p] };
    // PyTorch's AvgPool2d default count_include_pad=True; ours follows PyTorch.
    if (m instanceof AvgPool2d) attrs.count_include_pad = 1;
    return g.node(m instanceof MaxPool2d ? 'MaxPool' : 'AveragePool', [x], attrs);
  }
  if (m instanceof GlobalAvgPool) return g.node('Flatten', [g.node('GlobalAveragePool', [x])], { axis: 1 });
  if (m instanceof Dropout) return x;
  if (m instanceof Linear) return g.node('Gemm', [x, await g.weight(m.weight), await g.weight(m.bias)], { transB: 1 });
  throw new Error(`onnx export: no ONNX form for layer ${m.constructor.name}`);
}

/** The model's forward pass as layers, in order (each model class's forward). */
async function forward(g: GraphBuilder, model: Module, x: string): Promise<string> {
  if (model instanceof CNN5 || model instanceof SmallCNN) {
    const h = await layer(g, model.pool, await layer(g, model.features, x));
    return layer(g, model.fc, h);
  }
  if (model instanceof VGG16) return layer(g, model.classifier, await layer(g, model.pool, await layer(g, model.features, x)));
  if (model instanceof ResNet50) {
    let h = x;
    for (const m of model.stem) h = await layer(g, m, h);
    for (const stage of model.stages) {
      for (const b of stage.layers as unknown as ResNetBlock[]) {
        let y = g.node('Relu', [await layer(g, b.bn1, await layer(g, b.conv1, h))]);
        y = g.node('Relu', [await layer(g, b.bn2, await layer(g, b.conv2, y))]);
        y = await layer(g, b.bn3, await layer(g, b.conv3, y));
        const skip = b.downsample ? await layer(g, b.downsample, h) : h;
        h = g.node('Relu', [g.node('Add', [y, skip])]);
      }
    }
    return layer(g, model.fc, await layer(g, model.pool, h));
  }
  throw new Error(`onnx export: unsupported model ${model.constructor.name}`);
}

interface ResNetBlock {
  conv1: Module;
  bn1: Module;
  conv2: Module;
  bn2: Module;
  conv3: Module;
  bn3: Module;
  downsample: Module | null;
}

export interface OnnxOptions {
  /** Input frames x bands; default 373 x 64. The batch dimension is left symbolic ('N'). */
  frames?: number;
  bands?: number;
  /** Stored in the ONNX file's metadata_props (e.g. the checkpoint's metadata). */
  metadata?: Record<string, string>;
}

/**
 * Encodes `model` (in its current weights; evaluation semantics) as an ONNX ModelProto. A
 * Standardized model's graph begins with (x - input_norm.mean) / input_norm.std, broadcast
 * over the last (band) axis, exactly as src/ops/standardize.ts computes it. Throws for a
 * layer with no ONNX form here. Returns the file's bytes.
 */
export async function exportOnnx(model: Module, opts: OnnxOptions = {}): Promise<Uint8Array> {
  const frames = opts.frames ?? 373;
  const bands = opts.bands ?? 64;
  const g = new GraphBuilder(model);
  let x = 'features';
  let net = model;
  if (model instanceof Standardized) {
    const norm = model.inputNorm;
    if (norm.bands !== bands) throw new Error(`onnx export: the standardisation has ${norm.bands} bands, the input ${bands}`);
    // Same arithmetic as the model's standardisation (src/ops/standardize.ts): (x - mean) / std per Mel band.
    x = g.node('Div', [g.node('Sub', [x, await g.weight(norm.mean)]), await g.weight(norm.std)]);
    net = model.net;
  }
  const logitsInner = await forward(g, net, x);
  g.nodes.push({ opType: 'Identity', input: [logitsInner], output: ['logits'], name: 'logits', attribute: [] });
  g.nodes.push({ opType: 'Softmax', input: ['logits'], output: ['probabilities'], name: 'probabilities', attribute: [{ name: 'axis', type: 2, i: 1 }] });

  const classes = (net as { fc?: Linear; classifier?: Sequential }).fc?.weight.shape[0] ?? 4;
  const tensorType = (dims: (number | string)[]) => ({
    tensorType: { elemType: ONNX_FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
  });
  const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
  const ModelProto = root.lookupType('onnx.ModelProto');
  const message = ModelProto.fromObject({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'ser-webgpu',
    producerVersion: '0.1.0',
    graph: {
      name: model.constructor.name,
      node: g.nodes,
      initializer: g.initializers.map((i) => ({ name: i.name, dims: i.dims, dataType: ONNX_FLOAT, rawData: new Uint8Array(i.data.buffer, i.data.byteOffset, i.data.byteLength) })),
      input: [{ name: 'features', type: tensorType(['N', 1, frames, bands]) }],
      output: [
        { name: 'logits', type: tensorType(['N', classes]) },
        { name: 'probabilities', type: tensorType(['N', classes]) },
      ],
    },
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value: String(value) })),
  });
  return ModelProto.encode(message).finish();
}
