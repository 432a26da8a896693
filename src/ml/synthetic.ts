import { pathToFileURL } from 'node:url';
import { writeFileAtomicSync } from '../core/atomic.js';
import { formatCsv } from '../core/csv.js';
import { Rng } from './random.js';

// The default example's raw data: rows with the exact columns of the UCI obesity data set
// ("Estimation of obesity levels based on eating habits and physical condition") and realistic
// ranges, drawn from a seeded generative story, so the example runs without the real file (which a
// user can drop in its place). The class decides a BMI band (bands overlap, plus noise), and weight
// follows from BMI and height, so the classes are learnable but not trivially; the habits lean with
// the class the way they do in the real data.
//
// Regenerate: npx tsc -p . && node dist/src/ml/synthetic.js data/raw/obesity.csv [rows] [seed]

const COLUMNS = [
  'Gender', 'Age', 'Height', 'Weight', 'family_history_with_overweight', 'FAVC', 'FCVC', 'NCP', 'CAEC',
  'SMOKE', 'CH2O', 'SCC', 'FAF', 'TUE', 'CALC', 'MTRANS', 'NObeyesdad',
] as const;

interface ClassProfile {
  readonly name: string;
  readonly weight: number; // relative frequency
  readonly male: number; // P(Male)
  readonly bmi: readonly [number, number];
  readonly age: number; // median age above 14
  readonly family: number; // P(family history)
  readonly favc: number;
  readonly faf: number; // mean physical activity 0..3
}

const CLASSES: readonly ClassProfile[] = [
  { name: 'Insufficient_Weight', weight: 272, male: 0.36, bmi: [14.5, 18.6], age: 6, family: 0.45, favc: 0.8, faf: 1.2 },
  { name: 'Normal_Weight', weight: 287, male: 0.51, bmi: [18.5, 24.9], age: 7, family: 0.55, favc: 0.75, faf: 1.3 },
  { name: 'Overweight_Level_I', weight: 290, male: 0.5, bmi: [24.5, 27.6], age: 9, family: 0.8, favc: 0.85, faf: 1.05 },
  { name: 'Overweight_Level_II', weight: 290, male: 0.64, bmi: [27.0, 30.0], age: 11, family: 0.9, favc: 0.9, faf: 1.0 },
  { name: 'Obesity_Type_I', weight: 351, male: 0.56, bmi: [29.8, 34.9], age: 11, family: 0.95, favc: 0.93, faf: 0.9 },
  { name: 'Obesity_Type_II', weight: 297, male: 0.99, bmi: [34.5, 39.8], age: 13, family: 0.98, favc: 0.96, faf: 0.95 },
  { name: 'Obesity_Type_III', weight: 324, male: 0.01, bmi: [39.5, 50.0], age: 9, family: 0.99, favc: 0.99, faf: 0.65 },
];

class Draw {
  constructor(private readonly rng: Rng) {}
  uniform(lo = 0, hi = 1): number {
    return lo + (this.rng.nextU32() / 4294967296) * (hi - lo);
  }
  normal(mean = 0, sd = 1): number {
    const u = Math.max(this.uniform(), 1e-12);
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  yes(p: number): 'yes' | 'no' {
    return this.uniform() < p ? 'yes' : 'no';
  }
  pick<T>(options: readonly (readonly [T, number])[]): T {
    let u = this.uniform() * options.reduce((a, [, w]) => a + w, 0);
    for (const [value, w] of options) if ((u -= w) < 0) return value;
    return options[options.length - 1]![0];
  }
}

const clip = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round = (v: number, digits: number) => Number(v.toFixed(digits));

export function generateObesity(rows: number, seed: number): string {
  const d = new Draw(new Rng(seed));
  const out: (string | number)[][] = [];
  for (let i = 0; i < rows; i++) {
    const c = d.pick(CLASSES.map((p) => [p, p.weight] as const));
    const male = d.uniform() < c.male;
    const age = clip(14 + c.age * Math.exp(d.normal(0, 0.55)), 14, 61);
    const height = clip(d.normal(male ? 1.76 : 1.63, male ? 0.07 : 0.065), 1.45, 1.98);
    const bmi = d.normal((c.bmi[0] + c.bmi[1]) / 2, (c.bmi[1] - c.bmi[0]) / 5);
    const weight = clip(bmi * height * height, 39, 173);
    const obese = c.bmi[0] >= 29.8;
    const mtrans = d.pick<string>([
      ['Public_Transportation', age > 30 ? 0.35 : 0.8],
      ['Automobile', age > 30 ? 0.6 : 0.15],
      ['Walking', c.bmi[0] < 25 ? 0.06 : 0.02],
      ['Motorbike', 0.005],
      ['Bike', 0.004],
    ]);
    out.push([
      male ? 'Male' : 'Female',
      Math.round(age),
      round(height, 2),
      round(weight, 1),
      d.yes(c.family),
      d.yes(c.favc),
      round(clip(d.normal(c.name === 'Obesity_Type_III' ? 2.9 : 2.35, 0.5), 1, 3), 2),
      round(clip(d.normal(2.7, 0.75), 1, 4), 2),
      d.pick<string>([['Sometimes', obese ? 0.92 : 0.76], ['Frequently', obese ? 0.04 : 0.18], ['Always', 0.025], ['no', 0.024]]),
      d.yes(0.02),
      round(clip(d.normal(2.0, 0.6), 1, 3), 2),
      d.yes(c.bmi[0] < 25 ? 0.09 : 0.03),
      round(clip(d.normal(c.faf, 0.8), 0, 3), 2),
      round(clip(d.normal(0.65, 0.6), 0, 2), 2),
      d.pick<string>([['Sometimes', obese ? 0.72 : 0.6], ['no', obese ? 0.26 : 0.35], ['Frequently', 0.033], ['Always', 0.001]]),
      mtrans,
      c.name,
    ]);
  }
  return formatCsv(COLUMNS, out);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path = 'data/raw/obesity.csv', rows = '2111', seed = '2019'] = process.argv.slice(2);
  writeFileAtomicSync(path, generateObesity(Number(rows), Number(seed)));
  console.log(`wrote ${rows} rows to ${path}`);
}
