// The attack panel's plain-language result, computed from the probabilities alone so every
// sentence can be checked against the numbers (test/browser.test.ts, test/web-statement.test.ts).

export interface AttackOutcome {
  method: 'fgsm' | 'pgd';
  /** The class whose probability the attack pushes down (untargeted: the clean prediction) or up (targeted). */
  attacked: number;
  targeted: boolean;
  before: ArrayLike<number>;
  after: ArrayLike<number>;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best] || (Number.isNaN(v[best]) && !Number.isNaN(v[i]))) best = i;
  return best;
}

/** A probability as a percentage with one decimal, or words when it is not a number. */
export function percent(p: number): string {
  return Number.isFinite(p) ? `${(100 * p).toFixed(1)}%` : 'not a number';
}

export interface Statement {
  changed: boolean;
  /** Untargeted: P(attacked) went up; targeted: P(target) went down. The attack moved the wrong way. */
  overshoot: boolean;
  lines: string[];
}

/** What the attack did, in sentences: the prediction, the attacked class's probability, and why it may have risen. */
export function describeAttack(o: AttackOutcome, classes: readonly string[]): Statement {
  const from = argmax(o.before);
  const to = argmax(o.after);
  const changed = from !== to;
  const lines = [changed ? `The prediction changed from ${classes[from]} to ${classes[to]}.` : `The prediction did not change: it is still ${classes[from]}.`];
  const name = classes[o.attacked];
  const p = o.before[o.attacked];
  const q = o.after[o.attacked];
  lines.push(`P(${name}), the ${o.targeted ? 'target' : 'attacked'} class, went from ${percent(p)} to ${percent(q)}.`);
  const overshoot = o.targeted ? q < p : q > p;
  if (overshoot) {
    const dir = o.targeted ? 'lowered' : 'raised';
    lines.push(
      o.method === 'fgsm'
        ? `FGSM overshot: it takes one step of size ε along the sign of the loss gradient at the clean input, but the loss is linear only close to that input; at this ε the step went past the region where the loss ${o.targeted ? 'falls' : 'rises'}, which ${dir} P(${name}). PGD (several smaller steps, each re-aimed) or a smaller ε avoids this.`
        : `PGD ${dir} P(${name}) at this ε: its steps ended where the loss is ${o.targeted ? 'higher' : 'lower'} than at the clean input (try more steps or a smaller step size).`,
    );
  }
  if (o.targeted && to === o.attacked && from !== o.attacked) lines.push(`The targeted attack reached its target, ${name}.`);
  return { changed, overshoot, lines };
}
