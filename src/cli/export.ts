// `ser export --onnx OUT.onnx --checkpoint MODEL.safetensors`: the model as an ONNX inference
// graph (src/export/onnx.ts) for onnxruntime and other ONNX tools.
import type { CommandSpec, Parsed } from './args.js';
import { UserError } from './errors.js';
import { createNodeEngine } from '../gpu/node.js';
import { openCheckpoint, MODEL_FLAG } from './model-file.js';
import { exportOnnx, ONNX_OPSET } from '../export/onnx.js';
import { assertWritableFile, writeFileAtomic } from '../io/atomic.js';
import { Standardized } from '../nn/input-norm.js';

export const spec: CommandSpec = {
  name: 'export',
  summary:
    'Write a trained model as ONNX (opset 13): input features [N, 1, 373, 64], outputs logits and probabilities.\n\n' +
    'Inference mode: batchnorm with its running statistics, no dropout; the per-band input standardisation\n' +
    'is part of the graph when the checkpoint has one. The features come from the checkpoint\'s front end\n' +
    "(ser features), so the ONNX model gives the same probabilities as 'ser predict'.",
  usage: 'ser export --onnx OUT.onnx --checkpoint MODEL.safetensors [--model NAME]',
  flags: {
    onnx: { type: 'string', value: 'FILE', help: 'the ONNX file to write' },
    checkpoint: { type: 'string', value: 'FILE', help: "a checkpoint written by 'ser train', or a plain state_dict with --model" },
    ...MODEL_FLAG,
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length > 0) throw new UserError(`export: unexpected argument '${p.positionals[0]}'`);
  if (typeof p.flags.onnx !== 'string' || p.flags.onnx === '') throw new UserError('export: --onnx OUT.onnx is required');
  if (typeof p.flags.checkpoint !== 'string') throw new UserError('export: --checkpoint MODEL.safetensors is required');
  assertWritableFile(p.flags.onnx); // now, not after loading and converting the model
  const engine = await createNodeEngine();
  const path = p.flags.checkpoint;
  const { model, meta, recipe } = openCheckpoint(engine, path, { model: typeof p.flags.model === 'string' ? p.flags.model : undefined });
  // The checkpoint's recipe travels in the metadata (a plain state_dict's is inferred, src/nn/open-model.ts).
  const bytes = await exportOnnx(model, { metadata: { ...meta, recipe: recipe.name } });
  try {
    writeFileAtomic(p.flags.onnx, bytes);
  } catch (e) {
    throw new UserError(`cannot write ${p.flags.onnx}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  console.log(`${p.flags.onnx}: ${meta.model ?? p.flags.model} as ONNX opset ${ONNX_OPSET}, ${(bytes.length / 1e6).toFixed(2)} MB${model instanceof Standardized ? ', with the input standardisation' : ''}`);
  model.dispose();
  return 0;
}
