// Calls to the gateway: JSON errors become ApiError, the access token (when
// the gateway requires one) rides in the Authorization header. The token is
// kept in sessionStorage only, never patient data.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() { return sessionStorage.getItem('metis.token'); }
export function setToken(value) {
  if (value) sessionStorage.setItem('metis.token', value);
  else sessionStorage.removeItem('metis.token');
}

export function headers(extra = {}) {
  const result = { ...extra };
  const current = token();
  if (current) result.Authorization = `Bearer ${current}`;
  return result;
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
  } catch { /* not JSON */ }
  if (response.status === 401) window.dispatchEvent(new CustomEvent('metis:login-required'));
  return new ApiError(response.status, message);
}

/** A request; the Response when it succeeded, else an ApiError. */
export async function request(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (!response.ok && response.status !== 304) throw await failure(response);
  return response;
}

export async function json(path, options = {}) {
  const response = await request(path, { ...options, headers: { Accept: 'application/json, application/dicom+json', ...options.headers } });
  return response.status === 204 ? null : response.json();
}

/** An image (thumbnail, rendered) as an object URL, the request carrying the token. */
export async function imageURL(path) {
  const response = await request(path, { headers: { Accept: 'image/png' } });
  return URL.createObjectURL(await response.blob());
}

/** Saves a download (an export) under its server-given name. */
export async function download(path, fallbackName) {
  const response = await request(path);
  const disposition = response.headers.get('Content-Disposition') || '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The parts of a multipart/related body, as Uint8Arrays with their headers. */
export function multipartParts(buffer, contentType) {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new Error('multipart answer without a boundary');
  const bytes = new Uint8Array(buffer);
  const marker = new TextEncoder().encode(`--${boundary}`);
  const find = (from, pattern) => {
    outer: for (let i = from; i <= bytes.length - pattern.length; i++) {
      for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  };
  const blank = new Uint8Array([13, 10, 13, 10]);
  const parts = [];
  let at = find(0, marker);
  while (at >= 0) {
    const headerStart = at + marker.length;
    if (bytes[headerStart] === 45 && bytes[headerStart + 1] === 45) break;  // closing --
    const headerEnd = find(headerStart, blank);
    if (headerEnd < 0) break;
    const next = find(headerEnd + 4, marker);
    if (next < 0) break;
    const headerText = new TextDecoder().decode(bytes.subarray(headerStart, headerEnd));
    const partHeaders = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) partHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers: partHeaders, body: bytes.subarray(headerEnd + 4, next - 2) });  // minus CRLF before the boundary
    at = next;
  }
  return parts;
}

/** Server-sent events read with fetch (so the token header goes along). */
export async function events(path, onEvent, signal) {
  const response = await request(path, { headers: { Accept: 'text/event-stream' }, signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let end;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}

/** Uploads files to /uploadDicom in one multipart form; onProgress(loadedBytes, totalBytes) as it goes. */
export function uploadBatch(files, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append('files', file, file.relativePath || file.webkitRelativePath || file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/uploadDicom');
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.total);
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 401) window.dispatchEvent(new CustomEvent('metis:login-required'));
      if (body && (xhr.status < 300 || body.files)) resolve({ status: xhr.status, body });
      else reject(new ApiError(xhr.status, body?.error?.message || `${xhr.status} ${xhr.statusText}`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network error'));
    xhr.send(form);
  });
}
