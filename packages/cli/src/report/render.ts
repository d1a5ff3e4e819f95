/**
 * `results/<run>/report.html`: what a person looks at after a run, in one self-contained file
 * (inline CSS, SVG and a few lines of script, images as data URIs; no network, opens from
 * `file://`). {@link renderRunReport} is pure: the final-infer phase gathers a {@link RunReport}
 * and writes the page.
 */
import type { StageRow } from '@kzr/artifacts';
import type { EpochMetrics } from '@kzr/ml';

import { lrCurveSvg } from './lr-curve.js';

/** Where one candidate box of a report page ended. */
export type BoxOutcome = 'correct' | 'wrong' | 'removed-correct' | 'removed-wrong';

/** One candidate of a held-out page, in page pixels. */
export interface ReportBox {
  readonly code: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly outcome: BoxOutcome;
}

/** A held-out page with the final stage's candidates (kept and removed by the filter). */
export interface ReportPage {
  readonly pageId: string;
  /** Page pixels the boxes are in. */
  readonly width: number;
  readonly height: number;
  /** The page as scanned and as preprocessed, as data URIs (may be scaled down: the boxes are scaled with them). */
  readonly raw: string;
  readonly preprocessed: string;
  readonly boxes: readonly ReportBox[];
}

/** A trained model's curve: its training phase and per-epoch history. */
export interface ReportModel {
  /** The phase id, `first-train/<model>`. */
  readonly phase: string;
  readonly history: readonly EpochMetrics[];
  /** ml's loss and top-1 chart of the history (inline SVG). */
  readonly curveSvg: string;
}

/** Everything the report shows. */
export interface RunReport {
  readonly run: string;
  readonly dataset: string;
  readonly preset: string;
  readonly stages: readonly StageRow[];
  readonly pseudoLabels: { readonly count: number; readonly precision: number };
  readonly models: readonly ReportModel[];
  /** The augmentation preview grid (a PNG data URI) and what it shows; absent when no crop could be drawn. */
  readonly preview?: { readonly image: string; readonly caption: string };
  readonly filter: {
    readonly threshold: number;
    /** Summed split counts per feature over the final filter's boosters, most used first. */
    readonly importance: ReadonlyArray<{ readonly feature: string; readonly splits: number }>;
    /** Final-stage candidates on the test pages by outcome. */
    readonly outcomes: Readonly<Record<BoxOutcome, number>>;
    /** The codes of the candidates the filter removed, by whether they were right. */
    readonly removed: { readonly correct: readonly string[]; readonly wrong: readonly string[] };
  };
  readonly pages: readonly ReportPage[];
}

const outcomeColour: Record<BoxOutcome, string> = {
  correct: '#1a9641',
  wrong: '#d7191c',
  'removed-correct': '#fdae61',
  'removed-wrong': '#7b3294',
};

const outcomeLabel: Record<BoxOutcome, string> = {
  correct: 'kept, correct',
  wrong: 'kept, wrong',
  'removed-correct': 'removed by the filter, was correct',
  'removed-wrong': 'removed by the filter, was wrong',
};

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The character of a `U+XXXX` code (the code itself when it is not one). */
export function codeCharacter(code: string): string {
  const m = /^U\+([0-9A-F]{4,6})$/i.exec(code);
  return m === null ? code : String.fromCodePoint(parseInt(m[1]!, 16));
}

const pct = (v: number): string => (v * 100).toFixed(1);

function stageTable(report: RunReport): string {
  const rows = report.stages
    .map(
      (s) =>
        `<tr><th scope="row">${esc(s.stage)}</th><td>${s.f1.toFixed(4)}</td><td>${s.precision.toFixed(4)}</td>` +
        `<td>${s.recall.toFixed(4)}</td><td>${s.tp}</td><td>${s.fp}</td><td>${s.fn}</td></tr>`,
    )
    .join('');
  return (
    `<table id="stages"><thead><tr><th>stage</th><th>F1</th><th>precision</th><th>recall</th><th>TP</th><th>FP</th><th>FN</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>` +
    `<p>Pseudo-labels: <b>${report.pseudoLabels.count}</b>, precision <b>${pct(report.pseudoLabels.precision)} %</b> against the test pages' truth.</p>`
  );
}

function modelCurves(report: RunReport): string {
  return `<div class="models">${report.models
    .map(
      (m) =>
        `<figure class="model" data-phase="${esc(m.phase)}"><figcaption>${esc(m.phase)}: ${m.history.length} epochs, ` +
        `last held-out top-1 ${m.history.length > 0 ? pct(m.history.at(-1)!.valTop1) : '-'} %</figcaption>` +
        `<div class="curves">${m.curveSvg}${lrCurveSvg(m.history)}</div></figure>`,
    )
    .join('')}</div>`;
}

/** Features shown in the importance chart. */
const importanceRows = 20;

/** Each character once, most frequent first, with its count when above 1. */
function characterCounts(codes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  const items = [...counts].sort((a, b) => b[1] - a[1]);
  return items.length === 0
    ? 'none'
    : items
        .map(
          ([code, n]) =>
            `<span title="${esc(code)}">${esc(codeCharacter(code))}${n > 1 ? `<sub>${n}</sub>` : ''}</span>`,
        )
        .join(' ');
}

function filterSection(report: RunReport): string {
  const { importance, outcomes, removed, threshold } = report.filter;
  const max = Math.max(1, ...importance.map((f) => f.splits));
  const bars = importance
    .slice(0, importanceRows)
    .map(
      (f) =>
        `<tr><th scope="row">${esc(f.feature)}</th><td><span class="bar" style="width:${((f.splits / max) * 240).toFixed(0)}px"></span> ${f.splits}</td></tr>`,
    )
    .join('');
  const effect = (Object.keys(outcomeLabel) as BoxOutcome[])
    .map(
      (o) =>
        `<tr><th scope="row"><i class="key" style="background:${outcomeColour[o]}"></i>${outcomeLabel[o]}</th><td>${outcomes[o]}</td></tr>`,
    )
    .join('');
  return (
    `<div class="row"><table id="importance"><caption>Feature importance: splits over all boosters (${Math.min(importanceRows, importance.length)} of ${importance.length} features used)</caption>${bars}</table>` +
    `<div><table id="filter-effect"><caption>Effect on the final stage's test-page candidates (P(correct) &lt; ${threshold.toFixed(3)} removed)</caption>${effect}</table>` +
    `<p class="chars">Removed, were right: ${characterCounts(removed.correct)}</p>` +
    `<p class="chars">Removed, were wrong: ${characterCounts(removed.wrong)}</p></div></div>`
  );
}

function pageOverlay(page: ReportPage): string {
  const font = Math.max(12, Math.round(Math.max(page.width, page.height) / 40));
  const boxes = page.boxes
    .map(
      (b) =>
        `<g class="box ${b.outcome}"><rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="none" stroke="${outcomeColour[b.outcome]}" stroke-width="${Math.max(1, font / 6).toFixed(1)}"/>` +
        `<text x="${b.x + b.width + 2}" y="${b.y + font}" font-size="${font}" fill="${outcomeColour[b.outcome]}">${esc(codeCharacter(b.code))}</text></g>`,
    )
    .join('');
  return (
    `<figure class="page" data-page="${esc(page.pageId)}" data-predictions="${page.boxes.length}">` +
    `<figcaption>${esc(page.pageId)}: ${page.boxes.length} candidates ` +
    `<button type="button" class="toggle">show preprocessed</button></figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${page.width} ${page.height}" data-raw="${page.raw}" data-preprocessed="${page.preprocessed}">` +
    `<image href="${page.raw}" x="0" y="0" width="${page.width}" height="${page.height}"/>${boxes}</svg></figure>`
  );
}

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 16px 8px 0}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}
th[scope=row]{text-align:left}caption{text-align:left;font-weight:600;padding-bottom:4px}
.row{display:flex;flex-wrap:wrap;align-items:flex-start}#importance td{text-align:left}.chars{max-width:520px;font-size:18px}.chars sub{font-size:10px}.bar{display:inline-block;height:10px;background:#1e3cdc}
.key{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle}
.curves{display:flex;flex-wrap:wrap;gap:8px}.models{display:grid;grid-template-columns:repeat(auto-fill,minmax(640px,1fr))}.curves svg{width:auto;height:240px}figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}
.page svg{width:min(100%,560px);height:auto;border:1px solid #ccc}.pages{display:flex;flex-wrap:wrap;gap:16px}
.preview img{image-rendering:pixelated;width:384px;border:1px solid #ccc}`;

// The raw / preprocessed toggle of each page overlay; nothing else runs.
const script = `
for (const fig of document.querySelectorAll('figure.page')) {
  const svg = fig.querySelector('svg'), img = svg.querySelector('image'), button = fig.querySelector('button.toggle');
  button.addEventListener('click', () => {
    const raw = img.getAttribute('href') === svg.dataset.raw;
    img.setAttribute('href', raw ? svg.dataset.preprocessed : svg.dataset.raw);
    button.textContent = raw ? 'show raw' : 'show preprocessed';
  });
}`;

/** The report page of `report`. */
export function renderRunReport(report: RunReport): string {
  const legend = (Object.keys(outcomeLabel) as BoxOutcome[])
    .map((o) => `<span><i class="key" style="background:${outcomeColour[o]}"></i>${outcomeLabel[o]}</span> `)
    .join('');
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>kzr run ${esc(report.run)}</title><style>${style}</style></head><body>`,
    `<h1>kzr run ${esc(report.run)}</h1><p>Dataset <b>${esc(report.dataset)}</b>, preset <b>${esc(report.preset)}</b>.</p>`,
    '<h2>Stages</h2>',
    '<p>Kaggle F1 on the test pages after each stage (first models, + their filter, second training, refinement, final: hard voting and a refitted filter, what is published).</p>',
    stageTable(report),
    '<h2>Held-out pages</h2>',
    `<p>The final stage's candidates on test pages, the predicted character beside each box. ${legend}</p>`,
    `<div class="pages">${report.pages.map(pageOverlay).join('')}</div>`,
    '<h2>Training curves</h2>',
    '<p>Per epoch: mean training loss, held-out top-1 (centre view and, where measured, 7-crop TTA) and the learning rate.</p>',
    modelCurves(report),
    '<h2>Augmentation preview</h2>',
    report.preview === undefined
      ? '<p>No training crops to preview.</p>'
      : `<figure class="preview"><img alt="augmented training crops" src="${report.preview.image}"><figcaption>${esc(report.preview.caption)}</figcaption></figure>`,
    '<h2>False-positive filter</h2>',
    filterSection(report),
    `<script>${script}</script></body></html>`,
  ].join('\n');
}
