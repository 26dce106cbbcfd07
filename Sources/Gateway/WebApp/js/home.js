// Home: what Metis does, and the upload of files, folders and ZIP archives
// with per-file and overall progress and the rejected files with their reason.
import { json, uploadBatch } from './api.js';
import { tags, value } from './dicom.js';
import { el, svg } from './dom.js';
import { formatDate, personName, t } from './i18n.js';

const batchFiles = 16;
const batchBytes = 64 * 1024 * 1024;

export function homePage() {
  const cards = [
    ['store', 'M4 17v3h16v-3M12 4v12M7 9l5-5 5 5'],
    ['segment', 'M12 3a9 9 0 1 0 0.01 0M9 12a3 3 0 1 0 6 0a3 3 0 1 0-6 0'],
    ['view', 'M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12zm10-3a3 3 0 1 0 0 6 3 3 0 0 0 0-6'],
    ['follow', 'M3 20h18M5 16l4-5 4 3 6-8'],
  ];
  const icon = (path) => svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true' }, svg('path', { d: path }));
  const fileInput = el('input', { type: 'file', multiple: true, id: 'upload-files', class: 'visually-hidden' });
  const folderInput = el('input', { type: 'file', multiple: true, webkitdirectory: true, id: 'upload-folder', class: 'visually-hidden' });
  const overall = el('div', { class: 'overall', role: 'status', 'aria-live': 'polite' });
  const overallBar = el('progress', { max: 100, value: 0, hidden: true, id: 'upload-progress' });
  const fileList = el('ul', { class: 'file-list', id: 'upload-file-list' });
  const rejected = el('section', { class: 'rejected', hidden: true, id: 'upload-rejected' }, el('h3', {}, t('upload.rejected')), el('ul'));
  const recent = el('section', { class: 'recent', hidden: true, id: 'upload-studies' }, el('h3', {}, t('upload.recent')), el('ul'));
  const zone = el('div', { class: 'drop-zone', id: 'drop-zone', tabindex: 0, role: 'button', 'aria-label': t('upload.drop') },
    el('p', {}, t('upload.drop')),
    el('div', { class: 'actions' },
      el('label', { class: 'button primary', for: 'upload-files' }, t('upload.files')), fileInput,
      el('label', { class: 'button', for: 'upload-folder' }, t('upload.folder')), folderInput));
  zone.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); fileInput.click(); } });
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', async (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    upload(await droppedFiles(event.dataTransfer));
  });
  fileInput.addEventListener('change', () => upload([...fileInput.files]));
  folderInput.addEventListener('change', () => upload([...folderInput.files]));

  const shownStudies = new Set();
  async function upload(files) {
    if (!files.length) return;
    fileInput.value = '';
    folderInput.value = '';
    const total = files.reduce((sum, file) => sum + file.size, 0) || 1;
    const rows = new Map(files.map((file) => {
      const bar = el('progress', { max: 100, value: 0 });
      const state = el('span', { class: 'state' });
      const row = el('li', {}, el('span', { class: 'name' }, nameOf(file)), bar, state);
      fileList.append(row);
      return [file, { bar, state, row }];
    }));
    overallBar.hidden = false;
    let sent = 0, done = 0;
    const counts = { stored: 0, already: 0, failed: 0 };
    const showOverall = (extra = 0) => {
      const percent = Math.min(100, Math.round(((sent + extra) / total) * 100));
      overallBar.value = percent;
      overall.textContent = t('upload.overall', { done, total: files.length, percent });
    };
    for (const batch of batches(files)) {
      const sizes = batch.map((file) => file.size);
      const batchTotal = sizes.reduce((a, b) => a + b, 0) || 1;
      try {
        const { body } = await uploadBatch(batch, (loaded, sentTotal) => {
          const fraction = sentTotal ? loaded / sentTotal : 0;
          let before = 0;
          batch.forEach((file, index) => {
            const own = Math.max(0, Math.min(1, (fraction * batchTotal - before) / (sizes[index] || 1)));
            rows.get(file).bar.value = Math.round(own * 100);
            before += sizes[index];
          });
          showOverall(fraction * batchTotal);
        });
        for (const file of batch) {
          const name = nameOf(file);
          const entries = (body.files || []).filter((entry) => entry.file === name || entry.file.startsWith(`${name}/`));
          const skipped = (body.skipped || []).filter((entry) => entry.file === name || entry.file.startsWith(`${name}/`));
          const row = rows.get(file);
          row.bar.value = 100;
          const failed = entries.filter((entry) => entry.status === 'failed');
          counts.stored += entries.filter((entry) => entry.status === 'stored' || entry.status === 'replaced').length;
          counts.already += entries.filter((entry) => entry.status === 'alreadyStored').length;
          counts.failed += failed.length;
          const statuses = [...new Set(entries.map((entry) => t(`upload.${entry.status}`)))];
          if (!entries.length && skipped.length) statuses.push(t('upload.skipped'));
          row.state.textContent = statuses.join(', ');
          row.row.classList.toggle('failed', failed.length > 0 && failed.length === entries.length);
          for (const entry of [...failed, ...skipped]) {
            rejected.hidden = false;
            rejected.querySelector('ul').append(el('li', {}, el('strong', {}, entry.file), ' — ', entry.reason));
          }
        }
        for (const study of body.studies || []) showStudy(study.StudyInstanceUID);
      } catch (error) {
        for (const file of batch) {
          const row = rows.get(file);
          row.state.textContent = t('upload.failed');
          row.row.classList.add('failed');
          rejected.hidden = false;
          rejected.querySelector('ul').append(el('li', {}, el('strong', {}, nameOf(file)), ' — ', error.message));
          counts.failed += 1;
        }
      }
      sent += batchTotal;
      done += batch.length;
      showOverall();
    }
    overall.textContent = `${t('upload.overall', { done, total: files.length, percent: 100 })} — ${t('upload.summary', counts)}`;
  }

  async function showStudy(uid) {
    if (!uid || shownStudies.has(uid)) return;
    shownStudies.add(uid);
    recent.hidden = false;
    const item = el('li', {}, el('a', { href: `/viewer/${encodeURIComponent(uid)}`, 'data-link': true }, uid));
    recent.querySelector('ul').append(item);
    try {
      const [study] = await json(`/dicom-web/studies?StudyInstanceUID=${encodeURIComponent(uid)}`);
      if (study) {
        item.firstChild.textContent = `${personName(value(study, tags.patientName))} — ${formatDate(value(study, tags.studyDate))} — ${value(study, tags.studyDescription) || uid}`;
        item.append(' ', el('span', { class: 'muted' }, t('upload.open')));
      }
    } catch { /* the link with the UID stays */ }
  }

  const node = el('div', { class: 'home' },
    el('section', { class: 'hero' }, el('h1', {}, t('home.title')), el('p', { class: 'lead' }, t('home.lead'))),
    el('ul', { class: 'cards' }, cards.map(([key, path]) =>
      el('li', { class: 'card' }, icon(path), el('h2', {}, t(`home.card.${key}`)), el('p', {}, t(`home.card.${key}.text`))))),
    el('section', { class: 'upload' }, el('h2', {}, t('upload.title')), zone, overallBar, overall, fileList, rejected, recent));
  return { node, title: t('nav.home') };
}

function nameOf(file) { return file.relativePath || file.webkitRelativePath || file.name; }

function* batches(files) {
  let batch = [], bytes = 0;
  for (const file of files) {
    if (batch.length && (batch.length >= batchFiles || bytes + file.size > batchBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(file);
    bytes += file.size;
  }
  if (batch.length) yield batch;
}

/** Files of a drop, folders walked recursively (each file keeps its path). */
async function droppedFiles(transfer) {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...transfer.files];
  const files = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      file.relativePath = prefix + file.name;
      files.push(file);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const children = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!children.length) break;
        for (const child of children) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return files;
}
