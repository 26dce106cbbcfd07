// The application shell: routes pages by path (history API), the language
// switch, and the sign-in dialog when the gateway asks for a token.
import { json, setToken, token } from './api.js';
import { notice } from './dom.js';
import { language, languages, setLanguage, t, translate } from './i18n.js';
import { homePage } from './home.js';
import { studiesPage } from './studies.js';
import { trackingPage } from './tracking.js';
import { viewerPage } from './viewer.js';

const routes = [
  [/^\/$/, 'home', () => homePage()],
  [/^\/studies\/?$/, 'studies', () => studiesPage()],
  [/^\/viewer\/([^/]+)$/, 'studies', (uid) => viewerPage(decodeURIComponent(uid))],
  [/^\/tracking\/?$/, 'tracking', () => trackingPage()],
  [/^\/tracking\/([^/]+)$/, 'tracking', (id) => trackingPage(decodeURIComponent(id))],
];

let leave = null;  // the current page's clean-up

export function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

async function render() {
  if (leave) { leave(); leave = null; }
  const main = document.getElementById('main');
  main.replaceChildren();
  const path = location.pathname;
  const route = routes.find(([pattern]) => pattern.test(path)) || routes[0];
  const [, section, page] = route;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    const result = await page(...(route[0].exec(path) || []).slice(1));
    main.append(result.node);
    leave = result.leave || null;
    document.title = result.title ? `${result.title} — Metis` : 'Metis';
  } catch (error) {
    main.append(notice(t('common.error', { message: error.message }), 'error'));
  }
}

function showLanguage() {
  const next = languages.find((candidate) => candidate !== language());
  const button = document.getElementById('language');
  button.textContent = next.toUpperCase();
  button.setAttribute('aria-label', next === 'fr' ? 'Français' : 'English');
  translate();
}

/** Asks the gateway whether a token is needed and what ours may do; shows the sign-in dialog when needed. */
async function checkSession() {
  try {
    const session = await json('/api/v1/session');
    document.body.dataset.role = session.role || '';
    document.getElementById('logout').hidden = session.authentication !== 'tokens' || !session.authenticated;
    if (!session.authenticated) {
      showLogin();
      return false;
    }
  } catch { /* the pages report their own errors */ }
  return true;
}

function showLogin() {
  const dialog = document.getElementById('login');
  if (dialog.open) return;
  document.getElementById('login-error').textContent = token() ? t('login.rejected') : '';
  setToken(null);
  dialog.showModal();
  document.getElementById('login-token').focus();
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});
window.addEventListener('popstate', render);
window.addEventListener('metis:login-required', showLogin);
document.getElementById('language').addEventListener('click', () => {
  setLanguage(languages.find((candidate) => candidate !== language()));
  showLanguage();
  render();
});
document.getElementById('login-form').addEventListener('submit', async () => {
  const input = document.getElementById('login-token');
  setToken(input.value.trim());
  input.value = '';
  if (await checkSession()) render();
});
document.getElementById('logout').addEventListener('click', () => {
  setToken(null);
  document.body.dataset.role = '';
  document.getElementById('logout').hidden = true;
  document.getElementById('main').replaceChildren();
  showLogin();
});

// A token handed over in the address (`metis up` prints one) is taken and removed from it.
const handed = new URLSearchParams(location.hash.slice(1)).get('token');
if (handed) {
  setToken(handed);
  history.replaceState(null, '', location.pathname + location.search);
}
setLanguage(language());
showLanguage();
if (await checkSession()) render();
