// Studies: search (patient name with fuzzy matching, PatientID, date range),
// sort by any column, pages of 25, thumbnails, open and delete.
import { imageURL, json, request } from './api.js';
import { tags, value, values } from './dicom.js';
import { confirmDialog, el, notice, svg } from './dom.js';
import { formatDate, personName, t } from './i18n.js';

const pageSize = 25;
const fetchLimit = 5000;

export async function studiesPage() {
  const params = new URLSearchParams(location.search);
  const state = {
    name: params.get('name') || '', id: params.get('id') || '', from: params.get('from') || '', to: params.get('to') || '',
    sort: params.get('sort') || 'date', descending: params.get('order') !== 'asc', page: Math.max(1, +params.get('page') || 1),
  };
  const status = el('div', { class: 'status-line' });
  const table = el('div', { class: 'table-wrap' });
  const pager = el('nav', { class: 'pager', 'aria-label': 'pages' });
  let studies = [];
  // How each recent study arrived, and its arrival rule's job (GET /api/v1/arrivals).
  let arrivals = new Map();
  const thumbnails = [];

  const field = (key, label, type = 'search') =>
    el('label', {}, el('span', {}, label), el('input', { type, name: key, value: state[key], id: `search-${key}` }));
  const form = el('form', { class: 'search', role: 'search' },
    field('name', t('studies.search')), field('id', t('studies.patientId')), field('from', t('studies.from'), 'date'), field('to', t('studies.to'), 'date'),
    el('button', { class: 'primary', type: 'submit' }, t('studies.searchButton')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    for (const key of ['name', 'id', 'from', 'to']) state[key] = form.elements[key].value.trim();
    state.page = 1;
    load();
  });

  function remember() {
    const query = new URLSearchParams();
    for (const key of ['name', 'id', 'from', 'to']) if (state[key]) query.set(key, state[key]);
    if (state.sort !== 'date') query.set('sort', state.sort);
    if (!state.descending) query.set('order', 'asc');
    if (state.page > 1) query.set('page', state.page);
    history.replaceState(null, '', `/studies${query.size ? `?${query}` : ''}`);
  }

  async function load() {
    status.replaceChildren(notice(t('common.loading')));
    const query = new URLSearchParams({ limit: fetchLimit, includefield: '00081030,00080061,00201206,00201208' });
    if (state.name) { query.set('PatientName', `*${state.name}*`); query.set('fuzzymatching', 'true'); }
    if (state.id) query.set('PatientID', `${state.id}*`);
    if (state.from || state.to) query.set('StudyDate', `${state.from.replaceAll('-', '')}-${state.to.replaceAll('-', '')}`);
    try {
      const [found, arrived] = await Promise.all([
        json(`/dicom-web/studies?${query}`), json('/api/v1/arrivals').catch(() => ({ studies: [] }))]);
      studies = found;
      arrivals = new Map((arrived.studies || []).map((arrival) => [arrival.studyInstanceUID, arrival]));
      status.replaceChildren(el('span', {}, t('studies.count', { count: studies.length })));
      if (studies.length >= fetchLimit) status.append(notice(t('studies.truncated', { count: fetchLimit }), 'warning'));
      show();
    } catch (error) {
      status.replaceChildren(notice(t('common.error', { message: error.message }), 'error'));
    }
  }

  const columns = [
    ['patient', t('studies.patient'), (s) => `${personName(value(s, tags.patientName))} ${value(s, tags.patientID) || ''}`],
    ['date', t('studies.date'), (s) => value(s, tags.studyDate) || ''],
    ['description', t('studies.description'), (s) => value(s, tags.studyDescription) || ''],
    ['modalities', t('studies.modalities'), (s) => values(s, tags.modalities).join(' ')],
    ['counts', t('studies.counts'), (s) => +value(s, tags.studyInstanceCount) || 0],
    ['status', t('studies.status'), (s) => (segmented(s) ? 1 : 0)],
  ];

  function show() {
    for (const url of thumbnails.splice(0)) URL.revokeObjectURL(url);
    const key = columns.find(([name]) => name === state.sort)?.[2] || columns[1][2];
    const sorted = [...studies].sort((a, b) => {
      const x = key(a), y = key(b);
      const order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
      return state.descending ? -order : order;
    });
    const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
    state.page = Math.min(state.page, pages);
    remember();
    const shown = sorted.slice((state.page - 1) * pageSize, state.page * pageSize);
    if (!shown.length) {
      table.replaceChildren(notice(t('studies.empty')));
      pager.replaceChildren();
      return;
    }
    const header = el('tr', {}, el('th', {}, el('span', { class: 'visually-hidden' }, t('studies.thumbnail'))),
      columns.map(([name, label]) => {
        const current = state.sort === name;
        return el('th', { 'aria-sort': current ? (state.descending ? 'descending' : 'ascending') : 'none' },
          el('button', { class: 'sort', type: 'button', onclick: () => {
            state.descending = current ? !state.descending : name === 'date';
            state.sort = name;
            show();
          } }, label, current ? (state.descending ? ' ▼' : ' ▲') : ''));
      }), el('th', {}, ''));
    const body = el('tbody', {}, shown.map((study) => row(study)));
    table.replaceChildren(el('table', { class: 'studies', id: 'studies-table' }, el('thead', {}, header), body));
    pager.replaceChildren(
      el('button', { type: 'button', disabled: state.page <= 1, onclick: () => { state.page -= 1; show(); } }, t('common.previous')),
      el('span', {}, t('common.page', { page: state.page, pages })),
      el('button', { type: 'button', disabled: state.page >= pages, onclick: () => { state.page += 1; show(); } }, t('common.next')));
    loadThumbnails(shown);
  }

  function row(study) {
    const uid = value(study, tags.studyUID);
    const img = el('img', { class: 'thumbnail', alt: '', width: 64, height: 64, dataset: { uid } });
    return el('tr', { dataset: { uid } },
      el('td', {}, img),
      el('td', {}, el('strong', {}, personName(value(study, tags.patientName))), el('br'), el('span', { class: 'muted' }, value(study, tags.patientID) || '')),
      el('td', {}, formatDate(value(study, tags.studyDate))),
      el('td', {}, value(study, tags.studyDescription) || '—'),
      el('td', {}, values(study, tags.modalities).join(', ')),
      el('td', { class: 'number' }, `${value(study, tags.seriesCount) ?? '—'} / ${value(study, tags.studyInstanceCount) ?? '—'}`),
      el('td', {}, segmented(study) ? el('span', { class: 'badge ok' }, t('studies.segmented')) : el('span', { class: 'badge' }, t('studies.notSegmented')),
        arrivalBadges(arrivals.get(uid))),
      el('td', { class: 'row-actions' },
        el('a', { class: 'button', href: `/viewer/${encodeURIComponent(uid)}`, 'data-link': true }, t('studies.open')),
        el('button', { type: 'button', class: 'icon danger delete-study', title: t('studies.delete'), 'aria-label': `${t('studies.delete')} ${personName(value(study, tags.patientName))}`,
          onclick: () => remove(study) }, binIcon())));
  }

  // A study sent over DICOM, and what its arrival rule did: running, done or failed.
  function arrivalBadges(arrival) {
    if (!arrival) return [];
    const badges = [];
    if (arrival.channel === 'DIMSE') {
      badges.push(el('span', { class: 'badge arrival-dimse', title: t('studies.viaDicomTitle') }, t('studies.viaDicom', { ae: arrival.source || '?' })));
    }
    const automatic = { queued: ['running', ''], running: ['running', ''], retrying: ['running', ''], succeeded: ['done', 'ok'], failed: ['failed', 'error'] }[arrival.automatic];
    if (automatic) {
      badges.push(el('span', { class: `badge automatic-${automatic[0]} ${automatic[1]}` }, t(`studies.automatic.${automatic[0]}`)));
    }
    return badges.length ? [el('br'), ...badges] : [];
  }

  async function loadThumbnails(shown) {
    const queue = [...shown];
    const worker = async () => {
      while (queue.length) {
        const study = queue.shift();
        const uid = value(study, tags.studyUID);
        const img = table.querySelector(`img[data-uid="${CSS.escape(uid)}"]`);
        if (!img) continue;
        try {
          const url = await imageURL(`/dicom-web/studies/${encodeURIComponent(uid)}/thumbnail?viewport=64,64`);
          thumbnails.push(url);
          img.src = url;
        } catch { img.classList.add('missing'); }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  }

  async function remove(study) {
    const uid = value(study, tags.studyUID);
    const confirmed = await confirmDialog(t('studies.confirmTitle'), t('studies.confirmText', {
      patient: personName(value(study, tags.patientName)), date: formatDate(value(study, tags.studyDate)),
      description: value(study, tags.studyDescription) || uid,
    }), t('common.delete'));
    if (!confirmed) return;
    try {
      await request(`/dicom-web/studies/${encodeURIComponent(uid)}`, { method: 'DELETE' });
      studies = studies.filter((candidate) => candidate !== study);
      status.replaceChildren(notice(t('studies.deleted')), el('span', {}, t('studies.count', { count: studies.length })));
      show();
    } catch (error) {
      status.replaceChildren(notice(t('common.error', { message: error.message }), 'error'));
    }
  }

  load();
  const node = el('div', { class: 'studies-page' }, el('h1', {}, t('studies.title')), form, status, table, pager);
  return { node, title: t('studies.title'), leave: () => thumbnails.forEach((url) => URL.revokeObjectURL(url)) };
}

function binIcon() {
  return svg('svg', { viewBox: '0 0 24 24', width: 18, height: 18, 'aria-hidden': 'true', class: 'bin' },
    svg('path', { d: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6', fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
}

function segmented(study) {
  const modalities = values(study, tags.modalities);
  return modalities.includes('RTSTRUCT') || modalities.includes('SEG');
}

