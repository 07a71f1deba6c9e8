import { api, LoginRequired } from './api.js';
import { byId, el } from './dom.js';
import { HistoryPanel, LivePanel, renderFleet } from './panels.js';
import { TalkPanel } from './talk.js';

const REFRESH_MS = 1500;

/** The console page: the login form until the server says the session is good, then the panels. */
async function boot(): Promise<void> {
  try {
    const session = await api.session();
    showApp(session.workflows, session.queueBoardUrl);
  } catch (error) {
    if (!(error instanceof LoginRequired)) throw error;
    showLogin();
  }
}

function showLogin(): void {
  byId('app').classList.add('hidden');
  const form = byId<HTMLFormElement>('login');
  form.classList.remove('hidden');
  form.onsubmit = (event) => {
    event.preventDefault();
    api
      .login(byId<HTMLInputElement>('password').value)
      .then(() => {
        form.classList.add('hidden');
        return boot();
      })
      .catch(() => {
        byId('login-error').textContent = 'wrong password';
      });
  };
}

function showApp(workflows: string[], queueBoardUrl?: string): void {
  byId('app').classList.remove('hidden');
  byId('workflow').replaceChildren(...workflows.map((w) => el('option', { text: w, attrs: { value: w } })));
  const board = byId<HTMLAnchorElement>('queue-board');
  if (queueBoardUrl) board.href = queueBoardUrl;
  else board.classList.add('hidden');
  byId('logout').onclick = () => void api.logout().then(() => location.reload());
  new TalkPanel();
  const live = new LivePanel();
  const history = new HistoryPanel();
  const refresh = async () => {
    try {
      const [calls, ended, fleet] = await Promise.all([api.live(), api.history(), api.fleet()]);
      live.render(calls.calls);
      history.render(ended.calls);
      renderFleet(fleet);
    } catch (error) {
      if (error instanceof LoginRequired) return location.reload();
    }
    setTimeout(() => void refresh(), REFRESH_MS);
  };
  void refresh();
}

void boot();
