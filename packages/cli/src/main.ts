/**
 * The `kzr` command line. Each command prints JSON to stdout; bad input prints what is wrong to
 * stderr and exits 2. Commands load lazily, so `kzr score` never pays for TensorFlow.js.
 */
import { exitCodeOf, failureText } from './exit-code.js';

/** A command module: runs with the arguments after its name, resolves with the exit code. */
export interface Command {
  run(args: string[]): Promise<number>;
}

interface CommandEntry {
  /** One line for `kzr --help`. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/** Commands by name; a two-word name (`data books`) is a subcommand. */
const commands: Record<string, CommandEntry> = {
  start: { summary: 'run the embedded services on localhost until Ctrl-C', load: () => import('./commands/start.js') },
  'model summary': {
    summary: 'build a model config and print its parameter counts as JSON',
    load: () => import('./commands/model-summary.js'),
  },
  'model export-onnx': {
    summary: 'write a kzr checkpoint as ONNX (BN folded), checked against tfjs within 1e-4',
    load: () => import('./commands/model-export-onnx.js'),
  },
  'model import-onnx': {
    summary: 'publish a model-set version from ONNX files and/or checkpoints (hot-swapped by inference)',
    load: () => import('./commands/model-import-onnx.js'),
  },
  recognize: {
    summary: 'recognise a page from detection sets: characters in reading order, text, Kaggle string',
    load: () => import('./commands/recognize.js'),
  },
  train: {
    summary: 'train one model config on crops (shards or a label,path CSV); checkpoints every epoch',
    load: () => import('./commands/train.js'),
  },
  predict: {
    summary: 'classify crops with a trained checkpoint (TTA 7-crop); JSON lines with top-5',
    load: () => import('./commands/predict.js'),
  },
  'gbdt predict': {
    summary: 'print P(label = 1) per CSV row from a LightGBM model.txt',
    load: () => import('./commands/gbdt-predict.js'),
  },
  'gbdt train': {
    summary: 'train a LightGBM-style booster on a CSV table and write model.txt',
    load: () => import('./commands/gbdt-train.js'),
  },
  'gbdt cv': {
    summary: 'stratified k-fold CV of a booster; writes one model.txt per fold',
    load: () => import('./commands/gbdt-cv.js'),
  },
  'gbdt search': {
    summary: 'TPE hyperparameter search with median pruning; prints the best parameters',
    load: () => import('./commands/gbdt-search.js'),
  },
  'postprocess filter': {
    summary: 'drop likely false positives with a GBDT filter and write the submission CSV',
    load: () => import('./commands/postprocess-filter.js'),
  },
  'postprocess features': {
    summary: 'the 117 false-positive features and 0/1 labels of recognition output vs ground truth, as CSV',
    load: () => import('./commands/postprocess-features.js'),
  },
  'postprocess fit': {
    summary: 'fit a false-positive filter (k-fold boosters + F1-tuned threshold) from recognition output and truth',
    load: () => import('./commands/postprocess-fit.js'),
  },
  'data npz': {
    summary: 'list the arrays of an npz file: dtype and shape',
    load: () => import('./commands/data-npz.js'),
  },
  'data synth': {
    summary: 'generate a synthetic Kaggle-format dataset of books with detector outputs',
    load: () => import('./commands/data-synth.js'),
  },
  'data books': {
    summary: 'count the pages per book of a page-id list',
    load: () => import('./commands/data-books.js'),
  },
  'data split': {
    summary: 'book-title split of labelled crops into train/val/held-out lists',
    load: () => import('./commands/data-split.js'),
  },
  'preprocess page': {
    summary: "Ben's filter + colour NL-means denoising of a page (OpenCV parity), PNG out",
    load: () => import('./commands/preprocess-page.js'),
  },
  'preprocess crops': {
    summary: 'padded (train|infer|pseudo) character crops of labelled pages, optionally resized',
    load: () => import('./commands/preprocess-crops.js'),
  },
  'data ingest': {
    summary: 'store a Kaggle-layout folder under datasets/<name>/ and publish kzr.pages.ingested',
    load: () => import('./commands/data-ingest.js'),
  },
  score: {
    summary: 'Kaggle F1 of a submission CSV against a train.csv',
    load: () => import('./commands/score.js'),
  },
  order: {
    summary: 'reading order (columns right to left) of one labelled page',
    load: () => import('./commands/order.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return `usage: kzr <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [first, second, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    process.stdout.write(usage());
    return first === undefined ? 2 : 0;
  }
  const sub = second === undefined ? undefined : commands[`${first} ${second}`];
  const entry = sub ?? commands[first];
  if (!entry) {
    process.stderr.write(`kzr: unknown command "${[first, second].filter(Boolean).join(' ')}"\n${usage()}`);
    return 2;
  }
  const args = sub ? rest : argv.slice(1);
  return (await entry.load()).run(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`kzr: ${failureText(err)}\n`);
  process.exitCode = exitCodeOf(err);
}
