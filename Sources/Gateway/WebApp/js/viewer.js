// The viewer: series picker, canvas slice display (scroll, window/level, zoom,
// pan, orientation labels, slice position), RTSTRUCT contours per lesion,
// the lesion table, and the Segment button with live progress.
import { events, json, multipartParts, request } from './api.js';
import { tags, value, values } from './dicom.js';
import { el, notice } from './dom.js';
import { Plane, directionLetters, dot, opposite } from './geometry.js';
import { formatDate, formatNumber, personName, t } from './i18n.js';

const imageModalities = new Set(['MR', 'CT', 'PT', 'OT', 'MG', 'CR', 'DX', 'US', 'XA', 'NM']);
const rawSyntaxes = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']);

export async function viewerPage(studyUID) {
  const base = `/dicom-web/studies/${encodeURIComponent(studyUID)}`;
  const [study] = await json(`/dicom-web/studies?StudyInstanceUID=${encodeURIComponent(studyUID)}`);
  if (!study) throw new Error(`no study ${studyUID}`);
  const abort = new AbortController();
  const state = {
    series: [], current: null, slices: [], frames: [], index: 0, window: null, zoom: 1, pan: [0, 0],
    structures: [], hidden: new Set(), lesions: [], loadToken: 0,
  };

  const canvas = el('canvas', { class: 'slice', id: 'viewer-canvas', tabindex: 0, 'aria-label': t('viewer.help') });
  const labels = { top: el('span', { class: 'orientation top' }), bottom: el('span', { class: 'orientation bottom' }),
    left: el('span', { class: 'orientation left' }), right: el('span', { class: 'orientation right' }) };
  const info = el('div', { class: 'slice-info', id: 'slice-info', 'aria-live': 'polite' });
  const slider = el('input', { type: 'range', min: 0, max: 0, value: 0, id: 'slice-slider', 'aria-label': t('viewer.slice', { index: '', count: '' }) });
  const seriesSelect = el('select', { id: 'series-select', 'aria-label': t('viewer.series') });
  const presets = el('select', { id: 'window-preset', 'aria-label': t('viewer.window') },
    ['stored', 'auto', 'full'].map((name) => el('option', { value: name }, t(`viewer.preset.${name}`))));
  const segmentButton = el('button', { type: 'button', class: 'primary', id: 'segment-button' }, t('viewer.segment'));
  const progress = el('div', { class: 'job', id: 'segment-progress', role: 'status', 'aria-live': 'polite' });
  const lesionPanel = el('section', { class: 'lesions', id: 'lesion-panel' }, el('h2', {}, t('viewer.lesions')));
  const message = el('div', { class: 'viewer-message' });
  const stage = el('div', { class: 'stage' }, canvas, Object.values(labels), info);

  const header = el('div', { class: 'viewer-header' },
    el('div', {}, el('h1', {}, personName(value(study, tags.patientName)), ' ', el('span', { class: 'muted' }, value(study, tags.patientID) || '')),
      el('p', { class: 'muted' }, [formatDate(value(study, tags.studyDate)), value(study, tags.studyDescription)].filter(Boolean).join(' — '))),
    el('div', { class: 'viewer-tools' },
      el('label', {}, el('span', {}, t('viewer.series')), seriesSelect),
      el('label', {}, el('span', {}, t('viewer.window')), presets),
      el('button', { type: 'button', onclick: () => { state.zoom = 1; state.pan = [0, 0]; draw(); } }, t('viewer.reset')),
      segmentButton));
  const node = el('div', { class: 'viewer' }, header, message, progress,
    el('div', { class: 'viewer-body' }, el('div', { class: 'viewer-main' }, stage, slider, el('p', { class: 'muted help' }, t('viewer.help'))), lesionPanel));

  // Series and structures.
  async function loadSeries(preferred) {
    state.series = await json(`${base}/series`, { signal: abort.signal });
    const images = state.series.filter((s) => imageModalities.has(value(s, tags.modality)));
    const structureSeries = state.series.filter((s) => value(s, tags.modality) === 'RTSTRUCT');
    state.structures = [];
    for (const series of structureSeries) {
      const instances = await json(`${base}/series/${encodeURIComponent(value(series, tags.seriesUID))}/metadata`, { signal: abort.signal });
      for (const instance of instances) state.structures.push(structureSet(instance));
    }
    seriesSelect.replaceChildren(...images.map((s) => el('option', { value: value(s, tags.seriesUID) },
      `${value(s, tags.seriesNumber) ?? ''} ${value(s, tags.modality)} ${value(s, tags.seriesDescription) || ''} (${value(s, tags.seriesInstanceCount) ?? '?'})`)));
    if (!images.length) {
      message.replaceChildren(notice(t('viewer.noImages'), 'warning'));
      segmentButton.disabled = true;
      return;
    }
    const referenced = state.structures.flatMap((s) => s.referencedSeries);
    const choice = preferred || images.find((s) => referenced.includes(value(s, tags.seriesUID)))
      || [...images].sort((a, b) => (+value(b, tags.seriesInstanceCount) || 0) - (+value(a, tags.seriesInstanceCount) || 0))[0];
    const uid = typeof choice === 'string' ? choice : value(choice, tags.seriesUID);
    seriesSelect.value = uid;
    if (state.current !== uid) await openSeries(uid);
    else draw();
  }

  async function openSeries(uid) {
    const token = ++state.loadToken;
    state.current = uid;
    message.replaceChildren();
    const instances = await json(`${base}/series/${encodeURIComponent(uid)}/metadata`, { signal: abort.signal });
    if (token !== state.loadToken) return;
    const slices = instances.filter((i) => value(i, tags.rows) && values(i, tags.imagePosition).length === 3).map((instance) => ({
      uid: value(instance, tags.sopInstanceUID),
      rows: +value(instance, tags.rows), columns: +value(instance, tags.columns),
      plane: new Plane(values(instance, tags.imagePosition).map(Number), (values(instance, tags.imageOrientation).length === 6 ? values(instance, tags.imageOrientation) : [1, 0, 0, 0, 1, 0]).map(Number),
        (values(instance, tags.pixelSpacing).length === 2 ? values(instance, tags.pixelSpacing) : [1, 1]).map(Number)),
      slope: +(value(instance, tags.rescaleSlope) ?? 1), intercept: +(value(instance, tags.rescaleIntercept) ?? 0),
      center: value(instance, tags.windowCenter), width: value(instance, tags.windowWidth),
      bits: +value(instance, tags.bitsAllocated) || 16, signed: +value(instance, tags.pixelRepresentation) === 1,
      samples: +value(instance, tags.samplesPerPixel) || 1,
      lossy: value(instance, tags.lossyImageCompression) === '01',
    }));
    const normal = slices[0]?.plane.normal ?? [0, 0, 1];
    slices.sort((a, b) => dot(a.plane.origin, normal) - dot(b.plane.origin, normal));
    state.slices = slices;
    state.frames = new Array(slices.length).fill(null);
    state.index = Math.floor(slices.length / 2);
    state.window = null;
    state.zoom = 1;
    state.pan = [0, 0];
    slider.max = Math.max(0, slices.length - 1);
    slider.value = state.index;
    if (slices.some((slice) => slice.lossy)) message.replaceChildren(notice(t('viewer.lossy'), 'warning'));
    draw();
    loadFrames(token);
  }

  async function loadFrames(token) {
    const order = state.slices.map((_, index) => index).sort((a, b) => Math.abs(a - state.index) - Math.abs(b - state.index));
    const worker = async () => {
      while (order.length && token === state.loadToken) {
        const index = order.shift();
        const slice = state.slices[index];
        try {
          const response = await request(`${base}/series/${encodeURIComponent(state.current)}/instances/${encodeURIComponent(slice.uid)}/frames/1`, {
            // Native frames: metis-storage decodes whatever syntax the series is stored in (JPEG, JPEG-LS, JPEG 2000, RLE…).
            headers: { Accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1' }, signal: abort.signal });
          const [part] = multipartParts(await response.arrayBuffer(), response.headers.get('Content-Type') || '');
          const syntax = /transfer-syntax=([\d.]+)/.exec(part?.headers['content-type'] || '')?.[1] || '1.2.840.10008.1.2.1';
          if (!rawSyntaxes.has(syntax)) {
            message.replaceChildren(notice(t('viewer.compressed', { syntax }), 'warning'));
            return;
          }
          if (token !== state.loadToken) return;
          state.frames[index] = pixels(part.body, slice, syntax === '1.2.840.10008.1.2.2');
          if (index === state.index) draw();
        } catch (error) {
          if (error.name === 'AbortError') return;
          message.replaceChildren(notice(t('common.error', { message: error.message }), 'error'));
          return;
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  // Drawing.
  const offscreen = document.createElement('canvas');
  function geometry() {
    const slice = state.slices[state.index];
    const width = canvas.clientWidth, height = canvas.clientHeight;
    const physicalWidth = slice.columns * slice.plane.columnSpacing, physicalHeight = slice.rows * slice.plane.rowSpacing;
    const scale = Math.min(width / physicalWidth, height / physicalHeight) * state.zoom;
    const x = (width - physicalWidth * scale) / 2 + state.pan[0], y = (height - physicalHeight * scale) / 2 + state.pan[1];
    return { slice, scale, x, y, sx: scale * slice.plane.columnSpacing, sy: scale * slice.plane.rowSpacing };
  }

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = '#000';
    context.fillRect(0, 0, width, height);
    const slice = state.slices[state.index];
    if (!slice) { info.textContent = ''; return; }
    slider.value = state.index;
    const frame = state.frames[state.index];
    const { x, y, sx, sy } = geometry();
    if (frame) {
      if (!state.window) state.window = chooseWindow(presets.value, slice, frame);
      offscreen.width = slice.columns;
      offscreen.height = slice.rows;
      const offContext = offscreen.getContext('2d');
      const image = offContext.createImageData(slice.columns, slice.rows);
      const low = state.window.center - state.window.width / 2, factor = 255 / Math.max(state.window.width, 1e-6);
      for (let i = 0, n = slice.rows * slice.columns; i < n; i++) {
        const gray = (frame[i] * slice.slope + slice.intercept - low) * factor;
        const clamped = gray < 0 ? 0 : gray > 255 ? 255 : gray;
        image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = clamped;
        image.data[4 * i + 3] = 255;
      }
      offContext.putImageData(image, 0, 0);
      context.imageSmoothingEnabled = state.zoom < 4;
      context.drawImage(offscreen, x, y, slice.columns * sx, slice.rows * sy);
    }
    drawContours(context, slice, x, y, sx, sy);
    labels.right.textContent = directionLetters(slice.plane.row);
    labels.left.textContent = directionLetters(opposite(slice.plane.row));
    labels.bottom.textContent = directionLetters(slice.plane.column);
    labels.top.textContent = directionLetters(opposite(slice.plane.column));
    const windowText = state.window ? ` · W ${Math.round(state.window.width)} L ${Math.round(state.window.center)}` : '';
    info.textContent = `${t('viewer.slice', { index: state.index + 1, count: state.slices.length })} · ${t('viewer.position', { mm: formatNumber(slice.plane.position, 1) })}${windowText}${frame ? '' : ` · ${t('common.loading')}`}`;
  }

  function drawContours(context, slice, x, y, sx, sy) {
    const position = slice.plane.position;
    const next = state.slices[state.index + 1] ?? state.slices[state.index - 1];
    const tolerance = next ? Math.abs(next.plane.position - position) / 2 : 1;
    context.lineWidth = 2;
    for (const structure of state.structures) {
      for (const roi of structure.rois) {
        if (state.hidden.has(roi.number)) continue;
        context.strokeStyle = `rgb(${roi.color.join(',')})`;
        for (const contour of roi.contours) {
          if (Math.abs(dot(contour.centre, slice.plane.normal) - position) > tolerance + 1e-3) continue;
          context.beginPath();
          contour.points.forEach((point, index) => {
            const [c, r] = slice.plane.pixel(point);
            // Pixel centres: a contour at pixel (c, r) lies at the centre of that pixel on screen.
            const px = x + (c + 0.5) * sx, py = y + (r + 0.5) * sy;
            if (index === 0) context.moveTo(px, py); else context.lineTo(px, py);
          });
          if (contour.closed) context.closePath();
          context.stroke();
        }
      }
    }
  }

  // Lesions.
  async function loadLesions() {
    let list = null;
    // Only a segmented study (one with a structure set) can have recorded lesions.
    if (state.structures.length) try {
      list = await json(`/api/v1/studies/${encodeURIComponent(studyUID)}/lesions`, { signal: abort.signal });
    } catch (error) {
      if (error.status !== 404) lesionPanel.replaceChildren(el('h2', {}, t('viewer.lesions')), notice(t('common.error', { message: error.message }), 'error'));
    }
    state.lesions = list?.lesions ?? [];
    const colors = new Map(state.structures.flatMap((s) => s.rois.map((roi) => [roi.number, roi.color])));
    if (!state.lesions.length) {
      lesionPanel.replaceChildren(el('h2', {}, t('viewer.lesions')), notice(t('viewer.noLesions')));
      return;
    }
    const descriptions = [...new Set(state.structures.map((s) => s.description).filter(Boolean))];
    const automatic = notice(t('viewer.automatic', { text: descriptions.join(' ') || t('viewer.automaticUnknown') }), 'warning');
    automatic.id = 'automatic-notice';
    lesionPanel.replaceChildren(el('h2', {}, t('viewer.lesions')), automatic, el('div', { class: 'table-wrap' }, el('table', { class: 'lesion-table', id: 'lesion-table' },
      el('thead', {}, el('tr', {}, el('th', {}, el('span', { class: 'visually-hidden' }, t('viewer.show'))), el('th', {}, t('viewer.lesion')), el('th', {}, t('viewer.volume')),
        el('th', {}, t('viewer.diameter')), el('th', {}, t('viewer.axial')), el('th', {}, t('viewer.slices')))),
      el('tbody', {}, state.lesions.map((lesion) => {
        const number = lesion.roiNumber ?? 0;
        const color = colors.get(number) || [255, 255, 0];
        const toggle = el('input', { type: 'checkbox', checked: !state.hidden.has(number), 'aria-label': `${t('viewer.contours')} ${lesion.label || number}`,
          onchange: (event) => { if (event.target.checked) state.hidden.delete(number); else state.hidden.add(number); draw(); } });
        const row = el('tr', { tabindex: 0, dataset: { roi: number }, class: 'lesion-row' },
          el('td', {}, toggle),
          el('td', {}, el('span', { class: 'swatch', dataset: { color: color.join(',') } }), lesion.label || `${t('viewer.lesion')} ${number}`),
          el('td', { class: 'number' }, formatNumber(lesion.volumeMm3, 0)),
          el('td', { class: 'number' }, formatNumber(lesion.longestDiameterMm, 1)),
          el('td', { class: 'number' }, `${formatNumber(lesion.longestAxialDiameterMm, 1)} × ${formatNumber(lesion.perpendicularDiameterMm, 1)}`),
          el('td', { class: 'number' }, `${(lesion.firstSlice ?? 0) + 1}–${(lesion.lastSlice ?? 0) + 1}`));
        const go = (event) => { if (event.target !== toggle) centre(lesion); };
        row.addEventListener('click', go);
        row.addEventListener('keydown', (event) => { if (event.key === 'Enter') go(event); });
        return row;
      })))));
    // Colours go in through the CSSOM (no inline style attributes under the CSP).
    for (const swatch of lesionPanel.querySelectorAll('.swatch')) swatch.style.backgroundColor = `rgb(${swatch.dataset.color})`;
  }

  function centre(lesion) {
    const point = lesion.centroidMm;
    if (!point || point.length !== 3 || !state.slices.length) return;
    const normal = state.slices[0].plane.normal;
    const target = dot(point, normal);
    let best = 0;
    state.slices.forEach((slice, index) => {
      if (Math.abs(slice.plane.position - target) < Math.abs(state.slices[best].plane.position - target)) best = index;
    });
    state.index = best;
    state.zoom = Math.max(state.zoom, 2);
    state.pan = [0, 0];
    const { x, y, sx, sy, slice } = geometry();
    const [c, r] = slice.plane.pixel(point);
    state.pan = [canvas.clientWidth / 2 - (x + (c + 0.5) * sx), canvas.clientHeight / 2 - (y + (r + 0.5) * sy)];
    draw();
    canvas.focus();
  }

  // Segmentation.
  segmentButton.addEventListener('click', async () => {
    segmentButton.disabled = true;
    segmentButton.textContent = t('viewer.segmenting');
    const started = performance.now();
    const bar = el('progress', { max: 100, value: 0 });
    const stageText = el('span', { class: 'stage-name' }, t('viewer.stage', { stage: t('stage.queued') }));
    const elapsed = el('span', { class: 'elapsed', id: 'segment-elapsed' }, t('viewer.elapsed', { seconds: '0.0' }));
    progress.replaceChildren(stageText, bar, elapsed);
    const timer = setInterval(() => { elapsed.textContent = t('viewer.elapsed', { seconds: ((performance.now() - started) / 1000).toFixed(1) }); }, 100);
    try {
      const job = await json('/api/v1/segmentations', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ studyInstanceUID: studyUID, seriesInstanceUID: state.current }), signal: abort.signal });
      let outcome = null;
      await events(`/api/v1/segmentations/${encodeURIComponent(job.id)}/events`, (name, data) => {
        if (name === 'progress') {
          stageText.textContent = t('viewer.stage', { stage: t(`stage.${data.stage}`) });
          bar.value = Math.round((data.fraction || 0) * 100);
        } else if (name === 'done' || name === 'failed') outcome = { name, data };
      }, abort.signal);
      clearInterval(timer);
      if (!outcome) outcome = { name: 'done', data: await json(`/api/v1/segmentations/${encodeURIComponent(job.id)}`) };
      if (outcome.name === 'failed' || outcome.data.status === 'failed') throw new Error(outcome.data.error?.message || 'failed');
      const result = outcome.data.result;
      bar.value = 100;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      stageText.textContent = `${t('viewer.done', { count: result?.lesions?.length ?? 0, seconds })} ${t('viewer.engine', { engine: `${result?.engine ?? ''} ${result?.engineVersion ?? ''}`.trim() })}`;
      progress.dataset.state = 'done';
      await loadSeries(state.current);
      await loadLesions();
      draw();
    } catch (error) {
      clearInterval(timer);
      if (error.name === 'AbortError') return;
      progress.dataset.state = 'failed';
      stageText.textContent = t('viewer.failed', { message: error.message });
    } finally {
      segmentButton.disabled = false;
      segmentButton.textContent = t('viewer.segment');
    }
  });

  // Interaction.
  const step = (delta) => {
    if (!state.slices.length) return;
    state.index = Math.max(0, Math.min(state.slices.length - 1, state.index + delta));
    draw();
  };
  const zoomAt = (factor, cx = canvas.clientWidth / 2, cy = canvas.clientHeight / 2) => {
    const next = Math.max(0.25, Math.min(16, state.zoom * factor));
    const applied = next / state.zoom;
    const w = canvas.clientWidth / 2, h = canvas.clientHeight / 2;
    state.pan = [(state.pan[0] - (cx - w)) * applied + (cx - w), (state.pan[1] - (cy - h)) * applied + (cy - h)];
    state.zoom = next;
    draw();
  };
  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    if (event.ctrlKey) zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.offsetX, event.offsetY);
    else step(event.deltaY > 0 ? 1 : -1);
  }, { passive: false });
  canvas.addEventListener('keydown', (event) => {
    const actions = { ArrowUp: () => step(-1), ArrowDown: () => step(1), PageUp: () => step(-10), PageDown: () => step(10),
      Home: () => step(-Infinity), End: () => step(Infinity), '+': () => zoomAt(1.25), '=': () => zoomAt(1.25), '-': () => zoomAt(0.8),
      0: () => { state.zoom = 1; state.pan = [0, 0]; draw(); } };
    const action = actions[event.key];
    if (action) { event.preventDefault(); action(); }
  });
  canvas.addEventListener('contextmenu', (event) => event.preventDefault());
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    const panning = event.shiftKey || event.button === 2 || event.button === 1;
    let last = [event.clientX, event.clientY];
    const move = (moveEvent) => {
      const dx = moveEvent.clientX - last[0], dy = moveEvent.clientY - last[1];
      last = [moveEvent.clientX, moveEvent.clientY];
      if (panning) state.pan = [state.pan[0] + dx, state.pan[1] + dy];
      else if (state.window) {
        const sensitivity = Math.max(state.window.width, 1) / 256;
        state.window = { center: state.window.center + dy * sensitivity, width: Math.max(1, state.window.width + dx * sensitivity) };
      }
      draw();
    };
    const up = () => { canvas.removeEventListener('pointermove', move); canvas.removeEventListener('pointerup', up); };
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerup', up);
  });
  slider.addEventListener('input', () => { state.index = +slider.value; draw(); });
  seriesSelect.addEventListener('change', () => openSeries(seriesSelect.value));
  presets.addEventListener('change', () => { state.window = null; draw(); });
  const resize = new ResizeObserver(() => draw());
  resize.observe(stage);

  loadSeries().then(loadLesions).catch((error) => {
    if (error.name !== 'AbortError') message.replaceChildren(notice(t('common.error', { message: error.message }), 'error'));
  });
  return {
    node, title: personName(value(study, tags.patientName)),
    leave: () => { abort.abort(); state.loadToken += 1; resize.disconnect(); },
  };
}

/** A frame's stored values as a typed array (rescale is applied when drawing). */
function pixels(bytes, slice, bigEndian) {
  const count = slice.rows * slice.columns;
  const copy = bytes.slice(0, count * (slice.bits / 8)).buffer;
  if (slice.bits === 8) return new Uint8Array(copy);
  if (bigEndian) {
    const view = new DataView(copy);
    const result = slice.signed ? new Int16Array(count) : new Uint16Array(count);
    for (let i = 0; i < count; i++) result[i] = slice.signed ? view.getInt16(2 * i, false) : view.getUint16(2 * i, false);
    return result;
  }
  if (slice.bits === 32) return slice.signed ? new Int32Array(copy) : new Uint32Array(copy);
  return slice.signed ? new Int16Array(copy) : new Uint16Array(copy);
}

/** Window for a preset: the stored one, the 1st–99th percentile, or the slice's full range. */
function chooseWindow(preset, slice, frame) {
  const center = Number(String(slice.center ?? '').split('\\')[0]);
  const width = Number(String(slice.width ?? '').split('\\')[0]);
  if (preset === 'stored' && Number.isFinite(center) && width > 0) return { center, width };
  const sample = [];
  const stride = Math.max(1, Math.floor(frame.length / 20000));
  for (let i = 0; i < frame.length; i += stride) sample.push(frame[i] * slice.slope + slice.intercept);
  sample.sort((a, b) => a - b);
  const low = preset === 'full' ? sample[0] : sample[Math.floor(sample.length * 0.01)];
  const high = preset === 'full' ? sample[sample.length - 1] : sample[Math.floor(sample.length * 0.995)];
  return { center: (low + high) / 2, width: Math.max(1, high - low) };
}

/** ROIs of an RT Structure Set instance (DICOM JSON), with their contours and colours. */
function structureSet(instance) {
  const rois = new Map();
  for (const item of values(instance, '30060020')) {
    rois.set(+value(item, '30060022'), { number: +value(item, '30060022'), name: value(item, '30060026') || '', color: [255, 255, 0], contours: [] });
  }
  for (const item of values(instance, '30060039')) {
    const roi = rois.get(+value(item, '30060084'));
    if (!roi) continue;
    const color = values(item, '3006002A').map(Number);
    if (color.length === 3) roi.color = color;
    for (const contour of values(item, '30060040')) {
      const data = values(contour, '30060050').map(Number);
      const points = [];
      for (let i = 0; i + 2 < data.length; i += 3) points.push([data[i], data[i + 1], data[i + 2]]);
      if (!points.length) continue;
      const centre = [0, 1, 2].map((axis) => points.reduce((sum, point) => sum + point[axis], 0) / points.length);
      roi.contours.push({ points, centre, closed: value(contour, '30060042') !== 'OPEN_PLANAR' });
    }
  }
  const referencedSeries = values(instance, '30060010').flatMap((frame) => values(frame, '30060012'))
    .flatMap((studyItem) => values(studyItem, '30060014')).map((series) => value(series, '0020000E'));
  // StructureSetDescription: what the result is ("automatic, research use, not validated on patient data. unetr …").
  return { rois: [...rois.values()], referencedSeries, description: value(instance, '30060006') || '' };
}
