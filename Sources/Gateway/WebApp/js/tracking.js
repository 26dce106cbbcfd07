// Follow-up: the patient list, and per patient the examinations with RANO-BM,
// charts of each tracked lesion's volume and diameter, and the exports.
import { download, json } from './api.js';
import { lineChart, palette } from './chart.js';
import { el, notice } from './dom.js';
import { formatDate, formatNumber, personName, t } from './i18n.js';

export async function trackingPage(patientID) {
  return patientID ? patientPage(patientID) : listPage();
}

async function listPage() {
  const list = await json('/api/v1/patients');
  const patients = list.patients || [];
  const filter = el('input', { type: 'search', id: 'patient-filter', 'aria-label': t('tracking.filter'), placeholder: t('tracking.filter') });
  const body = el('tbody');
  const show = () => {
    const words = filter.value.trim().toLowerCase();
    body.replaceChildren(...patients
      .filter((p) => !words || `${p.patientId} ${p.patientName || ''}`.toLowerCase().includes(words))
      .slice(0, 500)
      .map((p) => el('tr', {},
        el('td', {}, el('a', { href: `/tracking/${encodeURIComponent(p.patientId)}`, 'data-link': true }, p.patientId)),
        el('td', {}, personName(p.patientName)),
        el('td', { class: 'number' }, p.studies ?? 0),
        el('td', {}, formatDate(p.firstStudyDate)),
        el('td', {}, formatDate(p.lastStudyDate)))));
  };
  filter.addEventListener('input', show);
  show();
  const node = el('div', { class: 'tracking' }, el('h1', {}, t('tracking.title')),
    patients.length ? [filter, el('table', { class: 'patients', id: 'patients-table' },
      el('thead', {}, el('tr', {}, [t('tracking.patientId'), t('tracking.name'), t('tracking.studies'), t('tracking.first'), t('tracking.last')].map((h) => el('th', {}, h)))),
      body)] : notice(t('tracking.empty')),
    el('p', { class: 'actions export' },
      el('button', { type: 'button', onclick: () => download('/api/v1/export.csv', 'metis-follow-up.csv') }, t('tracking.exportCsv')),
      el('button', { type: 'button', onclick: () => download('/api/v1/export.json', 'metis-follow-up.json') }, t('tracking.exportJson'))));
  return { node, title: t('tracking.title') };
}

async function patientPage(patientID) {
  const id = encodeURIComponent(patientID);
  const timeline = await json(`/api/v1/patients/${id}/timeline`);
  const studies = timeline.studies || [];
  const tracks = timeline.tracks || [];
  const assessments = new Map((timeline.assessments || []).map((a) => [a.studyInstanceUid, a]));
  const dates = studies.map((s) => s.studyDate);
  const color = (index) => palette[index % palette.length];
  const label = (track) => t('tracking.track', { id: track.id });
  const lines = (field) => tracks.map((track, index) => ({
    label: label(track), color: color(index), status: track.status,
    points: (track.points || []).map((point) => ({ date: point.studyDate, value: point[field] ?? 0 })),
  }));
  const percent = (value) => (value === undefined ? '' : `${value > 0 ? '+' : ''}${formatNumber(value * 100, 0)} %`);

  const studyRows = studies.map((study) => {
    const assessment = assessments.get(study.studyInstanceUid) || {};
    const category = assessment.category || '';
    return el('tr', { dataset: { study: study.studyInstanceUid } },
      el('td', {}, el('a', { href: `/viewer/${encodeURIComponent(study.studyInstanceUid)}`, 'data-link': true }, formatDate(study.studyDate))),
      el('td', { class: 'number' }, study.lesions ?? 0),
      el('td', { class: 'number' }, formatNumber(study.totalVolumeMm3 ?? 0, 0)),
      el('td', {}, category ? el('span', { class: `badge rano-${category}`, title: t(`rano.${category}`) }, category === 'BASELINE' ? t('rano.BASELINE') : category) : '—'),
      el('td', {}, assessment.volumetricCategory && assessment.volumetricCategory !== 'BASELINE' ? assessment.volumetricCategory : '—'),
      el('td', { class: 'number' }, formatNumber(assessment.sumOfDiametersMm ?? 0, 1)),
      el('td', { class: 'number' }, [percent(assessment.changeFromBaseline), assessment.changeFromNadir !== undefined ? ` (nadir ${percent(assessment.changeFromNadir)})` : '']),
      el('td', {}, (assessment.newMeasurableTrackIds || []).length ? el('span', { class: 'badge new' }, `${t('tracking.newLesions')}: ${assessment.newMeasurableTrackIds.map((n) => `#${n}`).join(', ')}`) : ''));
  });

  const trackItems = tracks.map((track, index) => el('li', { class: `track-item status-${track.status}` },
    el('span', { class: 'swatch', dataset: { color: color(index) } }),
    `${label(track)} — ${t(`tracking.status.${track.status}`)}`, track.target ? ` · ${t('tracking.target')}` : '',
    ` · ${(track.points || []).map((p) => `${formatDate(p.studyDate)}: ${formatNumber(p.longestDiameterMm, 1)} mm`).join(', ')}`));

  const node = el('div', { class: 'tracking patient' },
    el('p', {}, el('a', { href: '/tracking', 'data-link': true }, `← ${t('tracking.back')}`)),
    el('h1', {}, personName(timeline.patient?.patientName), ' ', el('span', { class: 'muted' }, patientID)),
    el('p', { class: 'actions export' },
      el('button', { type: 'button', id: 'export-csv', onclick: () => download(`/api/v1/patients/${id}/export.csv`, `metis-follow-up-${patientID}.csv`) }, t('tracking.exportCsv')),
      el('button', { type: 'button', id: 'export-json', onclick: () => download(`/api/v1/patients/${id}/export.json`, `metis-follow-up-${patientID}.json`) }, t('tracking.exportJson'))),
    el('h2', {}, t('tracking.timeline')),
    el('p', { class: 'notice warning', id: 'automatic-notice' }, t('tracking.automatic')),
    el('div', { class: 'table-wrap' }, el('table', { class: 'timeline', id: 'timeline-table' },
      el('thead', {}, el('tr', {}, [t('tracking.date'), t('tracking.lesions'), t('tracking.totalVolume'), t('tracking.rano'), t('tracking.volumetric'),
        t('tracking.sum'), t('tracking.change'), ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, studyRows))),
    el('p', { class: 'muted caveat' }, t('tracking.caveat')),
    el('div', { class: 'charts' },
      lineChart({ title: t('tracking.volumeChart'), series: lines('volumeMm3'), dates, unit: 'mm³', id: 'volume-chart' }),
      lineChart({ title: t('tracking.diameterChart'), series: lines('longestDiameterMm'), dates, unit: 'mm', id: 'diameter-chart' })),
    el('h2', {}, t('tracking.tracks')),
    el('ul', { class: 'tracks' }, trackItems));
  for (const swatch of node.querySelectorAll('.swatch')) swatch.style.backgroundColor = swatch.dataset.color;
  return { node, title: `${t('tracking.title')} — ${patientID}` };
}
