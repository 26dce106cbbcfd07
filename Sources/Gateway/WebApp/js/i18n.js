// French and English. The browser's language decides until the user switches;
// the choice is kept in sessionStorage (no patient data is stored anywhere).

const messages = {
  en: {
    'nav.skip': 'Skip to content', 'nav.home': 'Home', 'nav.studies': 'Studies', 'nav.tracking': 'Follow-up',
    'common.cancel': 'Cancel', 'common.delete': 'Delete', 'common.loading': 'Loading…', 'common.error': 'Error: {message}',
    'common.previous': 'Previous', 'common.next': 'Next', 'common.page': 'Page {page} of {pages}', 'common.none': 'Nothing yet.',
    'login.title': 'Sign in', 'login.text': 'This Metis requires an access token (ask your administrator, or use the one `metis up` printed).',
    'login.token': 'Access token', 'login.submit': 'Sign in', 'login.logout': 'Sign out', 'login.rejected': 'This token was not accepted.',
    'home.title': 'Brain metastases, from MRI to follow-up',
    'home.lead': 'Metis stores your MRI studies, finds and outlines brain metastases, and follows every lesion over time.',
    'home.card.store': 'Store', 'home.card.store.text': 'Drop DICOM files, whole folders or ZIP exports. Studies are checked and indexed.',
    'home.card.segment': 'Segment', 'home.card.segment.text': 'One click runs the installed model (or the classical engine) and writes an RT Structure Set.',
    'home.card.view': 'View', 'home.card.view.text': 'Scroll the slices, set the window, and see each lesion’s contour and measurements.',
    'home.card.follow': 'Follow up', 'home.card.follow.text': 'Each lesion is tracked across examinations, with charts and the RANO-BM response.',
    'upload.title': 'Upload studies', 'upload.drop': 'Drop DICOM files, folders or ZIP archives here',
    'upload.files': 'Choose files', 'upload.folder': 'Choose a folder', 'upload.overall': 'Overall: {done} of {total} files, {percent} %',
    'upload.rejected': 'Rejected files', 'upload.recent': 'Uploaded studies', 'upload.stored': 'stored', 'upload.alreadyStored': 'already stored',
    'upload.replaced': 'replaced', 'upload.failed': 'rejected', 'upload.skipped': 'skipped', 'upload.open': 'Open in viewer',
    'upload.summary': '{stored} stored, {already} already stored, {failed} rejected',
    'studies.title': 'Studies', 'studies.search': 'Patient name', 'studies.patientId': 'Patient ID', 'studies.from': 'From', 'studies.to': 'To',
    'studies.searchButton': 'Search', 'studies.patient': 'Patient', 'studies.date': 'Date', 'studies.description': 'Description',
    'studies.modalities': 'Modalities', 'studies.counts': 'Series / images', 'studies.status': 'Segmentation', 'studies.segmented': 'Segmented',
    'studies.viaDicom': 'Received over DICOM from {ae}', 'studies.viaDicomTitle': 'Sent by a scanner or PACS (DIMSE C-STORE)',
    'studies.automatic.running': 'Automatic segmentation running', 'studies.automatic.done': 'Segmented automatically',
    'studies.automatic.failed': 'Automatic segmentation failed',
    'studies.notSegmented': 'Not segmented', 'studies.open': 'Open', 'studies.delete': 'Delete', 'studies.count': '{count} studies',
    'studies.confirmTitle': 'Delete this study?', 'studies.confirmText': 'The study of {patient} on {date} ({description}) and all its images will be deleted. This cannot be undone.',
    'studies.deleted': 'Study deleted.', 'studies.thumbnail': 'Thumbnail', 'studies.empty': 'No study matches.', 'studies.truncated': 'Only the first {count} studies are shown: refine the search.',
    'viewer.series': 'Series', 'viewer.segment': 'Segment', 'viewer.segmenting': 'Segmenting…', 'viewer.stage': 'Stage: {stage}',
    'viewer.elapsed': '{seconds} s', 'viewer.done': 'Segmentation done: {count} lesions in {seconds} s.', 'viewer.failed': 'Segmentation failed: {message}',
    'viewer.window': 'Window', 'viewer.preset.stored': 'Stored', 'viewer.preset.auto': 'Auto', 'viewer.preset.full': 'Full range',
    'viewer.slice': 'Slice {index} / {count}', 'viewer.position': 'Position {mm} mm', 'viewer.zoom': 'Zoom', 'viewer.reset': 'Reset view',
    'viewer.lesions': 'Lesions', 'viewer.noLesions': 'No segmentation recorded for this study yet.', 'viewer.lesion': 'Lesion',
    'viewer.volume': 'Volume (mm³)', 'viewer.diameter': 'Longest Ø (mm)', 'viewer.axial': 'Axial Ø × ⊥ (mm)',
    'viewer.slices': 'Slices', 'viewer.show': 'Shown', 'viewer.compressed': 'This series uses a compressed transfer syntax ({syntax}) that the viewer cannot display.', 'viewer.lossy': 'These images went through lossy compression: fine detail may differ from what the scanner acquired.',
    'viewer.help': 'Wheel or ↑/↓: slice · drag: window/level · shift-drag or right-drag: pan · ctrl-wheel or +/−: zoom',
    'viewer.noImages': 'This study has no image series to display.', 'viewer.automatic': 'Automatic result, to be checked by a clinician: {text}', 'viewer.automaticUnknown': 'automatic segmentation.', 'viewer.engine': '(engine: {engine})', 'viewer.contours': 'Contours',
    'stage.queued': 'queued', 'stage.fetch': 'reading images', 'stage.volume': 'building the volume', 'stage.engine': 'running the model', 'stage.intracranial': 'limiting to the intracranial volume',
    'stage.lesions': 'measuring lesions', 'stage.contours': 'tracing contours', 'stage.encode': 'writing the structure set',
    'stage.store': 'storing', 'stage.record': 'recording the follow-up', 'stage.done': 'done',
    'tracking.title': 'Follow-up', 'tracking.filter': 'Filter patients', 'tracking.patientId': 'Patient ID', 'tracking.name': 'Name',
    'tracking.studies': 'Studies', 'tracking.first': 'First study', 'tracking.last': 'Last study', 'tracking.empty': 'No patient is followed yet: segment a study first.',
    'tracking.timeline': 'Examinations', 'tracking.automatic': 'Lesions found automatically (automatic, research use, not validated on patient data): a clinician checks every one. The engine and model of each examination are in the exports.', 'tracking.date': 'Date', 'tracking.lesions': 'Lesions', 'tracking.totalVolume': 'Total volume (mm³)',
    'tracking.rano': 'RANO-BM', 'tracking.volumetric': 'Volumetric', 'tracking.sum': 'Sum of diameters (mm)', 'tracking.change': 'Change',
    'tracking.volumeChart': 'Volume of each lesion (mm³)', 'tracking.diameterChart': 'Longest diameter of each lesion (mm)',
    'tracking.tracks': 'Lesions followed', 'tracking.track': 'Lesion {id}', 'tracking.status.present': 'present', 'tracking.status.new': 'new',
    'tracking.status.resolved': 'resolved', 'tracking.target': 'target', 'tracking.exportCsv': 'Export CSV', 'tracking.exportJson': 'Export JSON',
    'tracking.newLesions': 'new measurable lesion', 'tracking.back': 'All patients', 'tracking.caveat': 'RANO-BM here is computed from the images only: steroid use, clinical status and non-target lesions need a clinician’s judgement.',
    'rano.BASELINE': 'Baseline', 'rano.CR': 'Complete response', 'rano.PR': 'Partial response', 'rano.SD': 'Stable disease',
    'rano.PD': 'Progressive disease', 'rano.NE': 'Not evaluable',
  },
  fr: {
    'nav.skip': 'Aller au contenu', 'nav.home': 'Accueil', 'nav.studies': 'Examens', 'nav.tracking': 'Suivi',
    'common.cancel': 'Annuler', 'common.delete': 'Supprimer', 'common.loading': 'Chargement…', 'common.error': 'Erreur : {message}',
    'common.previous': 'Précédent', 'common.next': 'Suivant', 'common.page': 'Page {page} sur {pages}', 'common.none': 'Rien pour l’instant.',
    'login.title': 'Connexion', 'login.text': 'Ce Metis demande un jeton d’accès (demandez-le à votre administrateur, ou utilisez celui affiché par `metis up`).',
    'login.token': 'Jeton d’accès', 'login.submit': 'Se connecter', 'login.logout': 'Se déconnecter', 'login.rejected': 'Ce jeton n’a pas été accepté.',
    'home.title': 'Métastases cérébrales, de l’IRM au suivi',
    'home.lead': 'Metis conserve vos examens IRM, détecte et contoure les métastases cérébrales, et suit chaque lésion dans le temps.',
    'home.card.store': 'Stocker', 'home.card.store.text': 'Déposez des fichiers DICOM, des dossiers entiers ou des archives ZIP. Les examens sont vérifiés et indexés.',
    'home.card.segment': 'Segmenter', 'home.card.segment.text': 'Un clic lance le modèle installé (ou le moteur classique) et écrit une RT Structure Set.',
    'home.card.view': 'Visualiser', 'home.card.view.text': 'Parcourez les coupes, réglez la fenêtre, voyez le contour et les mesures de chaque lésion.',
    'home.card.follow': 'Suivre', 'home.card.follow.text': 'Chaque lésion est suivie d’un examen à l’autre, avec graphiques et réponse RANO-BM.',
    'upload.title': 'Importer des examens', 'upload.drop': 'Déposez ici des fichiers DICOM, des dossiers ou des archives ZIP',
    'upload.files': 'Choisir des fichiers', 'upload.folder': 'Choisir un dossier', 'upload.overall': 'Total : {done} fichiers sur {total}, {percent} %',
    'upload.rejected': 'Fichiers refusés', 'upload.recent': 'Examens importés', 'upload.stored': 'enregistré', 'upload.alreadyStored': 'déjà présent',
    'upload.replaced': 'remplacé', 'upload.failed': 'refusé', 'upload.skipped': 'ignoré', 'upload.open': 'Ouvrir dans la visionneuse',
    'upload.summary': '{stored} enregistrés, {already} déjà présents, {failed} refusés',
    'studies.title': 'Examens', 'studies.search': 'Nom du patient', 'studies.patientId': 'Identifiant patient', 'studies.from': 'Du', 'studies.to': 'Au',
    'studies.searchButton': 'Rechercher', 'studies.patient': 'Patient', 'studies.date': 'Date', 'studies.description': 'Description',
    'studies.modalities': 'Modalités', 'studies.counts': 'Séries / images', 'studies.status': 'Segmentation', 'studies.segmented': 'Segmenté',
    'studies.viaDicom': 'Reçu en DICOM de {ae}', 'studies.viaDicomTitle': 'Envoyé par un scanner ou un PACS (DIMSE C-STORE)',
    'studies.automatic.running': 'Segmentation automatique en cours', 'studies.automatic.done': 'Segmenté automatiquement',
    'studies.automatic.failed': 'Échec de la segmentation automatique',
    'studies.notSegmented': 'Non segmenté', 'studies.open': 'Ouvrir', 'studies.delete': 'Supprimer', 'studies.count': '{count} examens',
    'studies.confirmTitle': 'Supprimer cet examen ?', 'studies.confirmText': 'L’examen de {patient} du {date} ({description}) et toutes ses images seront supprimés. Cette action est définitive.',
    'studies.deleted': 'Examen supprimé.', 'studies.thumbnail': 'Vignette', 'studies.empty': 'Aucun examen ne correspond.', 'studies.truncated': 'Seuls les {count} premiers examens sont affichés : affinez la recherche.',
    'viewer.series': 'Série', 'viewer.segment': 'Segmenter', 'viewer.segmenting': 'Segmentation…', 'viewer.stage': 'Étape : {stage}',
    'viewer.elapsed': '{seconds} s', 'viewer.done': 'Segmentation terminée : {count} lésions en {seconds} s.', 'viewer.failed': 'Échec de la segmentation : {message}',
    'viewer.window': 'Fenêtre', 'viewer.preset.stored': 'Enregistrée', 'viewer.preset.auto': 'Auto', 'viewer.preset.full': 'Plage complète',
    'viewer.slice': 'Coupe {index} / {count}', 'viewer.position': 'Position {mm} mm', 'viewer.zoom': 'Zoom', 'viewer.reset': 'Réinitialiser',
    'viewer.lesions': 'Lésions', 'viewer.noLesions': 'Aucune segmentation enregistrée pour cet examen.', 'viewer.lesion': 'Lésion',
    'viewer.volume': 'Volume (mm³)', 'viewer.diameter': 'Ø max (mm)', 'viewer.axial': 'Ø axial × ⊥ (mm)',
    'viewer.slices': 'Coupes', 'viewer.show': 'Affichée', 'viewer.compressed': 'Cette série utilise une syntaxe de transfert compressée ({syntax}) que la visionneuse ne sait pas afficher.', 'viewer.lossy': 'Ces images ont subi une compression avec perte : les détails fins peuvent différer de l’acquisition.',
    'viewer.help': 'Molette ou ↑/↓ : coupe · glisser : fenêtre/niveau · maj-glisser ou clic droit : déplacer · ctrl-molette ou +/− : zoom',
    'viewer.noImages': 'Cet examen n’a pas de série d’images à afficher.', 'viewer.automatic': 'Résultat automatique, à vérifier par un clinicien : {text}', 'viewer.automaticUnknown': 'segmentation automatique.', 'viewer.engine': '(moteur : {engine})', 'viewer.contours': 'Contours',
    'stage.queued': 'en attente', 'stage.fetch': 'lecture des images', 'stage.volume': 'construction du volume', 'stage.engine': 'exécution du modèle',
    'stage.intracranial': 'limitation au volume intracrânien', 'stage.lesions': 'mesure des lésions', 'stage.contours': 'tracé des contours', 'stage.encode': 'écriture de la structure',
    'stage.store': 'enregistrement', 'stage.record': 'mise à jour du suivi', 'stage.done': 'terminé',
    'tracking.title': 'Suivi', 'tracking.filter': 'Filtrer les patients', 'tracking.patientId': 'Identifiant', 'tracking.name': 'Nom',
    'tracking.studies': 'Examens', 'tracking.first': 'Premier examen', 'tracking.last': 'Dernier examen', 'tracking.empty': 'Aucun patient suivi : segmentez d’abord un examen.',
    'tracking.timeline': 'Examens', 'tracking.automatic': 'Lésions trouvées automatiquement (résultat automatique, usage de recherche, non validé sur des données de patients) : un clinicien vérifie chacune. Le moteur et le modèle de chaque examen figurent dans les exports.', 'tracking.date': 'Date', 'tracking.lesions': 'Lésions', 'tracking.totalVolume': 'Volume total (mm³)',
    'tracking.rano': 'RANO-BM', 'tracking.volumetric': 'Volumétrique', 'tracking.sum': 'Somme des diamètres (mm)', 'tracking.change': 'Variation',
    'tracking.volumeChart': 'Volume de chaque lésion (mm³)', 'tracking.diameterChart': 'Plus grand diamètre de chaque lésion (mm)',
    'tracking.tracks': 'Lésions suivies', 'tracking.track': 'Lésion {id}', 'tracking.status.present': 'présente', 'tracking.status.new': 'nouvelle',
    'tracking.status.resolved': 'disparue', 'tracking.target': 'cible', 'tracking.exportCsv': 'Exporter en CSV', 'tracking.exportJson': 'Exporter en JSON',
    'tracking.newLesions': 'nouvelle lésion mesurable', 'tracking.back': 'Tous les patients', 'tracking.caveat': 'Le RANO-BM est calculé ici à partir des images seules : corticoïdes, état clinique et lésions non cibles relèvent du jugement clinique.',
    'rano.BASELINE': 'Référence', 'rano.CR': 'Réponse complète', 'rano.PR': 'Réponse partielle', 'rano.SD': 'Maladie stable',
    'rano.PD': 'Progression', 'rano.NE': 'Non évaluable',
  },
};

export const languages = Object.keys(messages);
let current = pick();

function pick() {
  const chosen = sessionStorage.getItem('metis.language');
  if (chosen && messages[chosen]) return chosen;
  for (const language of navigator.languages || [navigator.language || 'en']) {
    const base = language.toLowerCase().split('-')[0];
    if (messages[base]) return base;
  }
  return 'en';
}

export function language() { return current; }

export function setLanguage(next) {
  if (!messages[next]) return;
  current = next;
  sessionStorage.setItem('metis.language', next);
  document.documentElement.lang = next;
}

/** The message for `key` in the current language, `{name}` replaced from `values`. */
export function t(key, values = {}) {
  const text = messages[current][key] ?? messages.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

/** Fills every `data-i18n` element below `root`. */
export function translate(root = document) {
  for (const element of root.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
}

/** A DICOM DA (YYYYMMDD) as a date in the user's locale; anything else as it is. */
export function formatDate(da) {
  if (!/^\d{8}$/.test(da || '')) return da || '—';
  const date = new Date(Date.UTC(+da.slice(0, 4), +da.slice(4, 6) - 1, +da.slice(6, 8)));
  return date.toLocaleDateString(current === 'fr' ? 'fr-FR' : undefined, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatNumber(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  return Number(value).toLocaleString(current === 'fr' ? 'fr-FR' : undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A DICOM person name (Family^Given^Middle^Prefix^Suffix) for display. */
export function personName(pn) {
  if (!pn) return '—';
  const [family = '', given = ''] = pn.split('=')[0].split('^');
  return given ? `${family.toUpperCase()} ${given}` : family.toUpperCase();
}
