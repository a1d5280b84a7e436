/**
 * Entry of the worker's standalone page (`GET /` on the worker's HTTP port): the same Dashboard
 * component fed by the worker data source. OWL is bundled in; no Odoo needed.
 *
 * The read-only token comes from `?token=` once, is kept in sessionStorage and removed from the
 * address bar so it does not end up in bookmarks, screenshots or the history. `?kiosk=1` starts
 * in kiosk mode (for a wall screen opened by a startup script). The page speaks the browser's
 * language (German for `de*`, else English).
 */
import { mount } from '@odoo/owl';
import { Dashboard } from '../components/dashboard.ts';
import { WorkerDataSource } from '../data/worker-data-source.ts';
import { labelsFor, PAGE_TITLES, pageLanguage } from '../model/languages.ts';

const TOKEN_KEY = 'workshop_iot.dashboard_token';

function takeToken(url: URL): string | null {
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function start(): void {
  const url = new URL(location.href);
  const token = takeToken(url);
  const kiosk = url.searchParams.get('kiosk') === '1';
  // The page may be served under a path prefix (reverse proxy): the API sits beside it.
  const baseUrl = `${location.origin}${location.pathname.replace(/\/[^/]*$/, '')}`;
  const target = document.getElementById('o_workshop_iot_app');
  if (!target) throw new Error('missing #o_workshop_iot_app');
  const dataSource = new WorkerDataSource({ baseUrl, token });
  const language = pageLanguage(navigator.language);
  document.documentElement.lang = language;
  document.title = PAGE_TITLES[language];
  void mount(Dashboard, target, {
    props: { dataSource, kiosk, locale: navigator.language, labels: labelsFor(language) },
    // The xml`` templates are compiled in the browser, which is why OWL's compiler is bundled.
    dev: false,
  });
}

start();
