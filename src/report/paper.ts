// The paper's reported UAR (Table 3): clean test / FGSM test at the training eps.
// (IEMOCAP, 4 classes, leave-one-session-out.) Null where the paper reports none.
export const PAPER_EPS = [0, 0.02, 0.04, 0.06, 0.08, 0.1];

type Cell = { clean: number; fgsm: number | null };

export const PAPER_UAR: Record<'cnn5' | 'resnet50' | 'vgg16', Cell[]> = {
  cnn5: [
    { clean: 0.582, fgsm: null },
    { clean: 0.584, fgsm: 0.511 },
    { clean: 0.597, fgsm: 0.46 },
    { clean: 0.591, fgsm: 0.431 },
    { clean: 0.588, fgsm: 0.416 },
    { clean: 0.582, fgsm: 0.404 },
  ],
  resnet50: [
    { clean: 0.521, fgsm: null },
    { clean: 0.56, fgsm: 0.405 },
    { clean: 0.562, fgsm: 0.369 },
    { clean: 0.56, fgsm: 0.338 },
    { clean: 0.548, fgsm: 0.334 },
    { clean: 0.571, fgsm: 0.332 },
  ],
  vgg16: [
    { clean: 0.538, fgsm: null },
    { clean: 0.573, fgsm: 0.492 },
    { clean: 0.585, fgsm: 0.455 },
    { clean: 0.584, fgsm: 0.469 },
    { clean: 0.592, fgsm: 0.437 },
    { clean: 0.579, fgsm: 0.442 },
  ],
};

export function paperCell(model: string, eps: number): Cell | null {
  const rows = PAPER_UAR[model as keyof typeof PAPER_UAR];
  const i = PAPER_EPS.findIndex((e) => Math.abs(e - eps) < 1e-9);
  return rows && i >= 0 ? rows[i] : null;
}
