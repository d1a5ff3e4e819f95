// The live page of `kzr start`: runs updating as they go, "recognise a page", model sets and
// retraining. Preact components written with htm's tagged templates, loaded as ES modules from
// this server (index.html's import map): no build step. The API is packages/cli/src/web/.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);

/** The token typed into the header (auth on), kept in a cookie so the event stream sends it too. */
function token() {
  return /(?:^|;\s*)kzr_token=([^;]+)/.exec(document.cookie)?.[1];
}

/** Calls the API; resolves with the JSON answer, rejects with its `error` line. */
async function api(path, body) {
  const headers = { accept: 'application/json' };
  const t = token();
  if (t !== undefined) headers.authorization = `Bearer ${decodeURIComponent(t)}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const value = await res.json();
  if (!res.ok) throw new Error(value.error ?? `${res.status}`);
  return value;
}

/** The route from the location's hash: runs, recognize or models. */
function useRoute() {
  const read = () => (location.hash.slice(1) || 'runs').split('?')[0];
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Header({ route, auth }) {
  const link = (to, label) => html`<a href=${`#${to}`} class=${route === to ? 'current' : ''}>${label}</a>`;
  const setToken = (e) => {
    document.cookie = `kzr_token=${encodeURIComponent(e.target.value)}; path=/; SameSite=Strict`;
    location.reload();
  };
  return html`<header>
    <h1>kzr</h1>
    <nav>${link('runs', 'Runs')}${link('recognize', 'Recognise a page')}${link('models', 'Models and retraining')}</nav>
    ${
      auth &&
      html`<label class="token"
        >token <input type="password" value=${decodeURIComponent(token() ?? '')} onChange=${setToken}
      /></label>`
    }
  </header>`;
}

// Runs: the server sends the newest runs whenever one of their phases changes.

function phaseLog(run, phase) {
  const query = new URLSearchParams({ run: run.run, phase: phase.id, attempt: String(phase.attempts) });
  return `/api/runs/log?${query}`;
}

function Runs() {
  const [runs, setRuns] = useState(undefined);
  const [lost, setLost] = useState(false);
  useEffect(() => {
    const events = new EventSource('/api/runs/events');
    events.addEventListener('runs', (e) => {
      setRuns(JSON.parse(e.data));
      setLost(false);
    });
    events.onerror = () => setLost(true);
    return () => events.close();
  }, []);
  if (runs === undefined) return html`<p>Waiting for the runs…</p>`;
  return html`<section id="runs">
    ${lost && html`<p class="error">The connection to kzr start was lost; retrying.</p>`}
    ${runs.length === 0 && html`<p>No runs yet: start one under "Models and retraining" or with <code>kzr retrain</code>.</p>`}
    <table>
      <thead>
        <tr>
          <th>run</th>
          <th>status</th>
          <th>preset</th>
          <th>dataset</th>
          <th>created</th>
          <th>phases</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${runs.map(
          (run) =>
            html`<tr class="run" data-run=${run.run} data-status=${run.status} key=${run.run}>
              <td>${run.run}</td>
              <td class=${`status-${run.status}`}>${run.status}${run.failedPhase ? ` (${run.failedPhase})` : ''}</td>
              <td>${run.preset ?? ''}</td>
              <td>${run.dataset ?? ''}</td>
              <td>${new Date(run.createdAt).toLocaleString()}</td>
              <td>
                <ul class="phases">
                  ${run.phases.map(
                    (p) =>
                      html`<li
                        class="phase"
                        data-phase=${p.id}
                        data-status=${p.status}
                        key=${p.id}
                        title=${`${p.status}, attempt ${p.attempts}${p.cacheHit ? ', from the cache' : ''}`}
                      >
                        ${p.attempts > 0 ? html`<a href=${phaseLog(run, p)} target="_blank">${p.id}</a>` : p.id}
                      </li>`,
                  )}
                </ul>
              </td>
              <td>
                ${run.report && html`<a class="report" href=${`/api/runs/report?run=${encodeURIComponent(run.run)}`} target="_blank">report</a>`}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

// Recognise a page: upload a page and its detections, or pick a held-out page of a stored dataset.

/** A colour from red (unsure) to green (sure) for a probability. */
function confidenceColour(p) {
  return `hsl(${Math.round(120 * Math.max(0, Math.min(1, p)))}, 85%, 38%)`;
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',')[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function PageOverlay({ page, image }) {
  const boxes = (list, removed) =>
    list.map((c, i) => {
      const b = c.box;
      const colour = removed ? undefined : confidenceColour(c.probability);
      const size = Math.max(10, Math.min(b.width, b.height) * 0.6);
      return html`<g key=${`${removed ? 'r' : 'k'}${i}`}>
        <rect
          class=${removed ? 'removed' : 'kept'}
          x=${b.x}
          y=${b.y}
          width=${b.width}
          height=${b.height}
          stroke=${colour}
          data-code=${c.code}
          data-probability=${c.probability.toFixed(3)}
        />
        <text
          class=${removed ? 'char removed' : 'char'}
          x=${b.x + b.width + 2}
          y=${b.y + size}
          font-size=${size}
          fill=${colour}
          >${c.character}</text
        >
      </g>`;
    });
  return html`<figure class="page">
    <img src=${image} alt=${page.pageId} />
    <svg viewBox=${`0 0 ${page.pageWidth} ${page.pageHeight}`} preserveAspectRatio="none">
      ${boxes(page.removed, true)}${boxes(page.characters, false)}
    </svg>
  </figure>`;
}

/** One line on what answered: how many characters, how many the filter removed, which model set and filter. */
function summary(page) {
  const removed = page.removed.length > 0 ? `, ${page.removed.length} removed by the filter` : '';
  const served = page.servedBy ? `${page.servedBy.modelSet} ${page.servedBy.version}` : '';
  return `${page.characters.length} characters${removed}; model set ${served}, filter ${page.filterVersion}`;
}

function Reading({ page }) {
  const [copied, setCopied] = useState('');
  const copy = () =>
    navigator.clipboard.writeText(page.text).then(
      () => setCopied('copied'),
      () => setCopied('select the text to copy it'),
    );
  const keys = [
    ['low', confidenceColour(0.1)],
    ['medium', confidenceColour(0.5)],
    ['high', confidenceColour(0.95)],
    ['removed', '#bbb'],
  ];
  return html`<div class="reading">
    <p class="summary">${summary(page)}</p>
    <p class="legend">
      <span>confidence</span>
      ${keys.map(([label, colour]) => html`<span key=${label}><i style=${`background:${colour}`}></i>${label}</span>`)}
    </p>
    <pre id="text">${page.text}</pre>
    <button id="copy" onClick=${copy}>Copy the text</button> <span>${copied}</span>
  </div>`;
}

function Recognize() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [result, setResult] = useState(undefined);
  const [dataset, setDataset] = useState('');
  const [pages, setPages] = useState([]);
  const go = async (body, image) => {
    setBusy(true);
    setError('');
    try {
      setResult({ page: await api('/api/recognize', body), image });
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  const upload = async (e) => {
    e.preventDefault();
    const form = e.target;
    const image = form.image.files[0];
    const detections = form.detections.files[0];
    if (!image || !detections) return setError('image and detections: choose both files');
    let sets;
    try {
      sets = JSON.parse(await detections.text());
    } catch {
      return setError(`detections: ${detections.name} is not JSON`);
    }
    const pageId = image.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
    await go({ image: await readBase64(image), detections: sets, pageId }, URL.createObjectURL(image));
  };
  const listPages = async () => {
    setError('');
    try {
      setPages(await api(`/api/pages?dataset=${encodeURIComponent(dataset)}`));
    } catch (err) {
      setError(err.message);
    }
  };
  const pick = async (e) => {
    e.preventDefault();
    const page = e.target.page.value;
    const query = new URLSearchParams({ dataset, page });
    await go({ dataset, page }, `/api/pages/image?${query}`);
  };
  return html`<section id="recognize">
    <form id="upload" onSubmit=${upload}>
      <fieldset>
        <legend>A page and its detections</legend>
        <label>page image <input name="image" type="file" accept="image/*" /></label>
        <label
          >detections (detection-set JSON) <input name="detections" type="file" accept=".json,application/json"
        /></label>
        <button disabled=${busy}>Recognise</button>
      </fieldset>
    </form>
    <form id="stored" onSubmit=${pick}>
      <fieldset>
        <legend>Or a held-out page of a stored dataset</legend>
        <label>dataset <input name="dataset" value=${dataset} onInput=${(e) => setDataset(e.target.value)} /></label>
        <button type="button" onClick=${listPages}>List pages</button>
        <label
          >page
          <select name="page">
            ${pages.map((p) => html`<option key=${p}>${p}</option>`)}
          </select></label
        >
        <button disabled=${busy || pages.length === 0}>Recognise</button>
      </fieldset>
    </form>
    ${busy && html`<p>Recognising…</p>`} ${error && html`<p class="error">${error}</p>`}
    ${
      result &&
      html`<div class="result" data-characters=${result.page.characters.length}>
        <${PageOverlay} page=${result.page} image=${result.image} />
        <${Reading} page=${result.page} />
      </div>`
    }
  </section>`;
}

// Models and retraining.

function Models() {
  const [versions, setVersions] = useState([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const load = () => api('/api/models').then(setVersions, (err) => setError(err.message));
  useEffect(() => void load(), []);
  const act = async (path, body, done) => {
    setError('');
    try {
      setMessage(done(await api(path, body)));
      await load();
    } catch (err) {
      setError(err.message);
    }
  };
  const retrain = (e) => {
    e.preventDefault();
    const body = { dataset: e.target.dataset.value, preset: e.target.preset.value };
    return act('/api/retrain', body, (r) => `Asked for run ${r.run}: it appears under Runs.`);
  };
  const sets = [...new Set(versions.map((v) => v.modelSet))];
  return html`<section id="models">
    <form id="retrain" onSubmit=${retrain}>
      <fieldset>
        <legend>Retrain (sends kzr.training.requested)</legend>
        <label>dataset <input name="dataset" required /></label>
        <label
          >preset
          <select name="preset">
            <option>smoke</option>
            <option>default</option>
          </select></label
        >
        <button>Retrain</button>
      </fieldset>
    </form>
    ${message && html`<p class="message">${message}</p>`} ${error && html`<p class="error">${error}</p>`}
    ${sets.length === 0 && html`<p>No model set is published yet.</p>`}
    ${sets.map(
      (set) =>
        html`<table class="model-set" data-model-set=${set} key=${set}>
          <caption>
            ${set}
            <button
              onClick=${() => act('/api/models/rollback', { modelSet: set }, (r) => `${set}: ${r.served} served`)}
            >
              Roll back
            </button>
          </caption>
          <thead>
            <tr>
              <th>version</th>
              <th>published</th>
              <th>served</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${versions
              .filter((v) => v.modelSet === set)
              .map(
                (v) =>
                  html`<tr key=${v.version} data-version=${v.version} data-served=${String(v.served)}>
                    <td>${v.version}</td>
                    <td>${new Date(v.createdAt).toLocaleString()}</td>
                    <td>${v.served ? (v.promoted ? 'served (promoted)' : 'served (newest)') : ''}</td>
                    <td>
                      ${
                        !v.served &&
                        html`<button
                          onClick=${() => act('/api/models/promote', { modelSet: set, version: v.version }, (r) => `${set}: ${r.served} served`)}
                        >
                          Promote
                        </button>`
                      }
                    </td>
                  </tr>`,
              )}
          </tbody>
        </table>`,
    )}
  </section>`;
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState(false);
  useEffect(() => void api('/api/config').then((c) => setAuth(c.auth)), []);
  const view =
    route === 'recognize' ? html`<${Recognize} />` : route === 'models' ? html`<${Models} />` : html`<${Runs} />`;
  return html`<${Header} route=${route} auth=${auth} />
    <main>${view}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
