// One declaration per kernel family: the shader's uniform `Params` struct and the TypeScript
// packer come from one field list, and entry points are a typed union checked against the
// WGSL (test/declare.test.ts), as tfjs-backend-webgpu's makeShader builds its uniforms from a
// program's declared fields. The struct text is inserted into the shader at module load,
// after the build's `// shader: NAME` line.
import type { Engine } from '../src/engine/engine.js';
import flatIndexSource from '../shaders/common/flat_index.wgsl';

/**
 * Shared WGSL helpers (shaders/common), for shader text generated in TypeScript; the build
 * prepends them to .wgsl files that call them.
 */
export const HELPERS = { flat_index: flatIndexSource.replace(/^\/\/ shader: \S+\n/, '') } as const;

/** A uniform field's WGSL type: one 32-bit scalar, or an array of vec4u (packed from a number list). */
export type FieldType = 'u32' | 'i32' | 'f32' | 'array<vec4u, 2>';
export type Field = readonly [name: string, type: FieldType, doc?: string];

const WORDS: Record<FieldType, number> = { u32: 1, i32: 1, f32: 1, 'array<vec4u, 2>': 8 };
const LETTER: Record<FieldType, string> = { u32: 'u', i32: 'i', f32: 'f', 'array<vec4u, 2>': 'u' };

type Value<T extends FieldType> = T extends 'array<vec4u, 2>' ? readonly number[] : number | boolean;
/** The values a packer takes: every declared field, by name (booleans become 0 / 1). */
export type ParamValues<F extends readonly Field[]> = { [K in F[number] as K[0]]: Value<K[1]> };

export interface ParamsLayout<F extends readonly Field[]> {
  readonly fields: F;
  /** `struct Params { ... }` (or the given name) in WGSL. */
  readonly wgsl: string;
  /** A uniform buffer holding `values` in declaration order (engine.uniform caches by content). */
  pack(engine: Engine, values: ParamValues<F>): GPUBuffer;
}

/** A 2D window's geometry (output size, kernel, stride, padding), shared by conv2d and pooling. */
export const WINDOW_2D_FIELDS = [
  ['Ho', 'u32'],
  ['Wo', 'u32'],
  ['kh', 'u32'],
  ['kw', 'u32'],
  ['sh', 'u32'],
  ['sw', 'u32'],
  ['ph', 'u32'],
  ['pw', 'u32'],
] as const satisfies readonly Field[];

/** A convolution's geometry: the batch chunk, channels, sizes and its 2D window (every conv2d shader). */
export const CONV_GEOMETRY_FIELDS = [
  ['N', 'u32', 'images in this dispatch (one chunk of the batch)'],
  ['C', 'u32'],
  ['H', 'u32'],
  ['W', 'u32'],
  ['O', 'u32'],
  ...WINDOW_2D_FIELDS,
] as const satisfies readonly Field[];

/**
 * Declares a uniform struct, `Params` unless named. A vec4 array starts on a 16-byte boundary
 * (WGSL's uniform layout): padding words `_padK` are inserted before it and packed as 0.
 */
export function declareParams<const F extends readonly Field[]>(fields: F, structName = 'Params'): ParamsLayout<F> {
  const laid: Field[] = [];
  let words = 0;
  for (const f of fields) {
    while (WORDS[f[1]] > 1 && words % 4 !== 0) {
      laid.push([`_pad${words}`, 'u32']);
      words++;
    }
    laid.push(f);
    words += WORDS[f[1]];
  }
  const width = Math.max(...laid.map(([n, t]) => n.length + t.length)) + 4;
  const lines = laid.map(([n, t, doc]) => {
    const decl = `  ${n}: ${t},`;
    return doc ? `${decl.padEnd(width)}// ${doc}` : decl;
  });
  const wgsl = `struct ${structName} {\n${lines.join('\n')}\n}\n`;
  const types = laid.map(([, t]) => LETTER[t].repeat(WORDS[t])).join('');
  return {
    fields,
    wgsl,
    pack(engine, values) {
      const flat: number[] = [];
      const record = values as Record<string, number | boolean | readonly number[]>;
      for (const [name, type] of laid) {
        const v = record[name] ?? (name.startsWith('_pad') ? 0 : undefined);
        if (v === undefined) throw new Error(`${structName}.${name}: no value`);
        if (typeof v === 'object') {
          if (v.length > WORDS[type]) throw new Error(`Params.${name}: ${v.length} values for ${WORDS[type]} words`);
          for (let i = 0; i < WORDS[type]; i++) flat.push(v[i] ?? 0);
        } else flat.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
      }
      return engine.uniform(flat, types);
    },
  };
}

/** `parts` inserted after the build's first line (`// shader: NAME`, which names pipelines in profiles). */
export function withPreamble(source: string, ...parts: string[]): string {
  const nl = source.indexOf('\n');
  const head = source.startsWith('// shader:') ? source.slice(0, nl + 1) : '';
  return `${head}${parts.join('\n')}\n${source.slice(head.length)}`;
}

/** A shader with its declared entry points: pipelines are asked for by a typed name. */
export interface Shader<E extends string> {
  readonly name: string;
  readonly code: string;
  readonly entries: readonly E[];
  pipeline(engine: Engine, entry: E, constants?: Record<string, number>): GPUComputePipeline;
}

/** Every declared shader, for the test that each entry point exists in its WGSL. */
export const SHADERS: Shader<string>[] = [];

/** Declares a shader: `code` (with any Params struct already inserted) and its entry points. */
export function declareShader<const E extends string>(name: string, code: string, entries: readonly E[]): Shader<E> {
  const shader: Shader<E> = {
    name,
    code,
    entries,
    pipeline: (engine, entry, constants = {}) => engine.pipeline(code, entry, constants),
  };
  SHADERS.push(shader);
  return shader;
}

/** The `@compute` entry points a WGSL source defines (attributes may sit on lines of their own). */
export function computeEntries(code: string): string[] {
  const text = code.replace(/\/\/.*$/gm, '');
  return [...text.matchAll(/@compute\b[^;{]*?\bfn\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) => m[1]);
}
