// The inspector's entry: loads server info and workflows, routes between the start page, the schedules page and run pages.
import { api, setTokenPrompt } from './api.js';
import { h, replace, toast } from './dom.js';
import { newRunDialog, tokenDialog } from './dialogs.js';
import { renderHome } from './home-view.js';
import { mountRunsList } from './runs-list.js';
import { openRunView } from './run-view.js';
import { renderSchedules } from './schedules-view.js';

const app = {
  workflows: [],
  info: null,
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  /** The open run's status changed: show it in the runs list at once rather than at the next refresh. */
  runChanged() {
    void runsList?.refresh();
  },
};

let closeCurrent = null;
let runsList = null;

function currentRunId() {
  const m = location.hash.match(/^#\/runs\/(.+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

function route() {
  closeCurrent?.();
  closeCurrent = null;
  const main = document.getElementById('main');
  const runId = currentRunId();
  if (runId) closeCurrent = openRunView(main, runId, app);
  else if (location.hash === '#/schedules') closeCurrent = renderSchedules(main, app);
  else closeCurrent = renderHome(main, app);
  void runsList?.refresh();
  main.scrollTop = 0;
}

async function start() {
  setTokenPrompt(tokenDialog);
  try {
    const [info, { workflows }] = await Promise.all([api('/info'), api('/workflows')]);
    app.info = info;
    app.workflows = workflows;
  } catch (error) {
    replace(
      document.getElementById('main'),
      h(
        'div',
        { class: 'empty' },
        h('h2', { text: 'Cannot reach the Weft API' }),
        h('p', { class: 'muted', text: error.message }),
      ),
    );
    return;
  }
  replace(
    document.getElementById('server-info'),
    h('span', { class: 'pill', text: `${app.info.storage}` }),
    h('span', { class: 'pill', text: `${app.workflows.length} workflow${app.workflows.length === 1 ? '' : 's'}` }),
    h('span', { class: 'muted small', text: `v${app.info.version}` }),
  );
  const newRun = document.getElementById('new-run-button');
  newRun.disabled = app.workflows.length === 0;
  newRun.addEventListener('click', async () => {
    const id = await newRunDialog(app.workflows, {});
    if (id) {
      toast('Run started', 'success');
      app.navigate(`#/runs/${encodeURIComponent(id)}`);
    }
  });
  runsList = mountRunsList(document.getElementById('sidebar'), {
    workflows: app.workflows,
    selectedRunId: currentRunId,
  });
  window.addEventListener('hashchange', route);
  route();
}

void start();
