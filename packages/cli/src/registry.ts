/**
 * The commands of `kzr`: name, one-line summary, and where each lives. Command `a b` is
 * `commands/a-b.ts` (exports `run`) with its flags in `commands/a-b.usage.ts` (exports `usage`),
 * so help loads only the light usage module. Adding a command: the two modules and one line here.
 */
import { type CommandUsage, formatHelp } from './args.js';

/** A command module (`commands/<name>.ts`): runs with the arguments after its name, resolves with the exit code. */
export interface Command {
  run(args: string[]): Promise<number>;
}

/** A command's usage module (`commands/<name>.usage.ts`): its flags, light to load for help. */
interface UsageModule {
  readonly usage: CommandUsage;
}

/**
 * One-line summaries by command name; a two-word name (`data books`) is a subcommand. Command
 * `a b` lives in `commands/a-b.ts` with its flags in `commands/a-b.usage.ts`.
 */
export const commands: Readonly<Record<string, string>> = {
  start: 'run the embedded services on localhost until Ctrl-C',
  'model summary': 'build a model config and print its parameter counts as JSON',
  'model export-onnx': 'write a kzr checkpoint as ONNX (BN folded), checked against tfjs within 1e-4',
  'model import-onnx': 'publish a model-set version from ONNX files and/or checkpoints (hot-swapped by inference)',
  'model list': 'the published model-set versions, which one is served and which is promoted',
  'model promote': 'serve a published version (pinned until the next promote or rollback)',
  'model rollback': 'serve again the version served before the last promotion',
  recognize: 'recognise a page from detection sets: characters in reading order, text, Kaggle string',
  train: 'train one model config on crops (shards or a label,path CSV); checkpoints every epoch',
  predict: 'classify crops with a trained checkpoint (centre view or TTA 7-crop); JSON lines with top-5',
  'gbdt predict': 'print P(label = 1) per CSV row from a LightGBM model.txt',
  'gbdt train': 'train a LightGBM-style booster on a CSV table and write model.txt',
  'gbdt cv': 'stratified k-fold CV of a booster; writes one model.txt per fold',
  'gbdt search': 'TPE hyperparameter search with median pruning; prints the best parameters',
  'postprocess filter': 'drop likely false positives with a GBDT filter and write the submission CSV',
  'postprocess features':
    'the 117 false-positive features and 0/1 labels of recognition output vs ground truth, as CSV',
  'postprocess fit':
    'fit a false-positive filter (k-fold boosters + F1-tuned threshold) from recognition output and truth',
  'data npz': 'list the arrays of an npz file: dtype and shape',
  'data synth': 'generate a synthetic Kaggle-format dataset of books with detector outputs',
  'data books': 'count the pages per book of a page-id list',
  'data split': 'book-title split of labelled crops into train/val/held-out lists',
  'preprocess page': "Ben's filter + colour NL-means denoising of a page (OpenCV parity), PNG out",
  'preprocess crops': 'padded (train|infer|pseudo) character crops of labelled pages, optionally resized',
  'data ingest': 'store a Kaggle-layout folder under datasets/<name>/ and publish kzr.pages.ingested',
  score: 'Kaggle F1 of a submission CSV against a train.csv',
  order: 'reading order (columns right to left) of one labelled page',
  'run start':
    'create a training run (preset or spec, dataset) and drive every phase to the end as local Jobs; this command is the controller',
  'run resume': 'become the controller of a run whose controller stopped and drive it to the end',
  'run watch': "follow a run's phases (JSON lines) until it ends",
  'run list': 'the runs in the Store with their status',
  'run cancel': "ask a run's controller to cancel it (stops its Jobs)",
  'run logs': "print the log of a phase's Job (its last attempt, or --attempt n)",
  gc: 'retention: remove old runs, unreferenced cache entries, superseded model versions and stale staging',
  retrain: 'ask the trainer for a run on a dataset: publish kzr.training.requested on the Bus it hears',
  'auth token': 'make a bearer token and the access-file entry (sha256 and role) that lets it in',
  'phase run':
    'run one phase of a run (what each phase Job runs): cache check, the phase, its manifest and cache entry',
};

/** The command named by the first one or two words, with the arguments after its name. */
export function findCommand(argv: readonly string[]): { name: string; args: string[] } | undefined {
  const [first, second] = argv;
  if (second !== undefined && Object.hasOwn(commands, `${first} ${second}`)) {
    return { name: `${first} ${second}`, args: argv.slice(2) };
  }
  return first !== undefined && Object.hasOwn(commands, first) ? { name: first, args: argv.slice(1) } : undefined;
}

/** The module of a command (`data books` -> `commands/data-books`). */
function modulePath(name: string, suffix = ''): string {
  return `./commands/${name.replace(' ', '-')}${suffix}.js`;
}

/** The usage of a command, from its light usage module. */
export async function loadUsage(name: string): Promise<CommandUsage> {
  return ((await import(modulePath(name, '.usage'))) as UsageModule).usage;
}

/** A command's module, with its dependencies. */
export async function loadCommand(name: string): Promise<Command> {
  return (await import(modulePath(name))) as Command;
}

/** `kzr <name> --help`. */
export async function helpOf(name: string): Promise<string> {
  return formatHelp(name, commands[name]!, await loadUsage(name));
}
