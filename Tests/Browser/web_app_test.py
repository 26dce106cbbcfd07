#!/usr/bin/env python3
"""The web application in headless Chromium (Selenium, Debian's chromium-driver).

Run by Tests/IntegrationTests/BrowserTests.swift against a running `metis up`
that already holds two segmented follow-ups of the patient; this script uploads
the baseline through the home page, opens it in the viewer, presses Segment,
waits for the contours, checks the lesion table against the API, deletes a
study through the confirmation dialog and opens the patient's follow-up chart.
Screenshots of each page go to --artefacts. Any JavaScript error in the
console fails the run.
"""
import argparse
import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

sys.stderr = sys.stdout  # the Swift test reads one stream

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True)
parser.add_argument("--upload", required=True, help="folder of files to upload")
parser.add_argument("--artefacts", required=True)
parser.add_argument("--study", required=True, help="StudyInstanceUID of the uploaded study")
parser.add_argument("--delete", required=True, help="StudyInstanceUID of the study to delete")
parser.add_argument("--patient", required=True)
parser.add_argument("--token", required=True, help="an admin access token")
parser.add_argument("--automatic", required=True, help="StudyInstanceUID of a study sent over DICOM and segmented by an arrival rule")
args = parser.parse_args()


def api(path):
    request = urllib.request.Request(args.base + path, headers={"Authorization": f"Bearer {args.token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def shot(name):
    driver.save_screenshot(os.path.join(args.artefacts, f"{name}.png"))


def console_errors():
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


checked = []


def coloured_pixels():
    """Pixels of the viewer's canvas that are not grey: the contours drawn over the slice."""
    return driver.execute_script("""
        const canvas = document.getElementById('viewer-canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - data[i + 1]) > 60 || Math.abs(data[i + 1] - data[i + 2]) > 60) count++;
        return count;""")


def check(condition, message):
    if not condition:
        shot("failure")
        raise AssertionError(message)
    checked.append(message)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,1000", "--lang=en-US"):
    options.add_argument(flag)
options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 120)
errors = []
try:
    # Sign-in: the gateway asks for a token; a wrong one is refused, the right one lets in.
    driver.get(args.base + "/")
    dialog = wait.until(ec.visibility_of_element_located((By.ID, "login")))
    check(not driver.find_elements(By.ID, "drop-zone"), "nothing is shown before signing in")
    driver.find_element(By.ID, "login-token").send_keys("metis_wrong\n")
    wait.until(lambda d: "not accepted" in d.find_element(By.ID, "login-error").text)
    check(dialog.is_displayed(), "a wrong token keeps the sign-in dialog")
    shot("0-sign-in")
    driver.find_element(By.ID, "login-token").send_keys(args.token + "\n")
    wait.until(ec.invisibility_of_element_located((By.ID, "login")))
    check(driver.execute_script("return localStorage.length") == 0, "nothing is kept in local storage")

    # Home: the cards, then the upload of a folder's files (one is not DICOM).
    wait.until(ec.presence_of_element_located((By.ID, "drop-zone")))
    check(len(driver.find_elements(By.CSS_SELECTOR, ".cards .card")) == 4, "the home page shows four feature cards")
    files = sorted(os.path.join(args.upload, name) for name in os.listdir(args.upload))
    driver.find_element(By.ID, "upload-files").send_keys("\n".join(files))
    wait.until(lambda d: "100 %" in d.find_element(By.CSS_SELECTOR, ".overall").text and "rejected" in d.find_element(By.CSS_SELECTOR, ".overall").text)
    rows = driver.find_elements(By.CSS_SELECTOR, "#upload-file-list li")
    check(len(rows) == len(files), "every file has a progress row")
    rejected = driver.find_element(By.ID, "upload-rejected")
    check(rejected.is_displayed() and "notes.txt" in rejected.text, "the non-DICOM file is listed as rejected with its reason")
    link = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'#upload-studies a[href="/viewer/{args.study}"]')))
    wait.until(lambda d: "PHANTOM" in d.find_element(By.ID, "upload-studies").text or "FANTÔME" in d.find_element(By.ID, "upload-studies").text)
    shot("1-home-upload")

    # Viewer: the slice is drawn, then Segment shows its progress and the contours come.
    link.click()
    canvas = wait.until(ec.presence_of_element_located((By.ID, "viewer-canvas")))
    wait.until(lambda d: "Loading" not in d.find_element(By.ID, "slice-info").text and "Slice" in d.find_element(By.ID, "slice-info").text)
    # The (JPEG 2000) slice is drawn from frames metis-storage decodes: bright pixels, no "cannot display" notice.
    bright = ("const c = document.getElementById('viewer-canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
              " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 60) n++; return n;")
    wait.until(lambda d: d.execute_script(bright) > 500)
    check("cannot display" not in driver.find_element(By.TAG_NAME, "main").text, "the compressed series is displayed")
    info_before = driver.find_element(By.ID, "slice-info").text
    canvas.click()
    canvas.send_keys("\ue015")  # arrow down: next slice
    wait.until(lambda d: d.find_element(By.ID, "slice-info").text != info_before)
    labels = [e.get_attribute("textContent") for e in driver.find_elements(By.CSS_SELECTOR, ".orientation")]
    check(sorted(labels) == sorted(["A", "P", "R", "L"]), f"orientation labels of an axial series: {labels}")
    shot("2-viewer")
    driver.find_element(By.ID, "segment-button").click()
    wait.until(lambda d: d.find_element(By.ID, "segment-elapsed").text.endswith(" s"))
    wait.until(lambda d: d.find_element(By.ID, "segment-progress").get_attribute("data-state") in ("done", "failed"))
    check(driver.find_element(By.ID, "segment-progress").get_attribute("data-state") == "done",
          "segmentation succeeded: " + driver.find_element(By.ID, "segment-progress").text)
    table = wait.until(ec.presence_of_element_located((By.ID, "lesion-table")))
    automatic = driver.find_element(By.ID, "automatic-notice").text
    check("automatic, research use, not validated on patient data" in automatic, f"the viewer says the result is automatic: {automatic}")
    expected = api(f"/api/v1/studies/{args.study}/lesions")["lesions"]
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    check(len(rows) == len(expected) and len(expected) >= 2, f"the lesion table has the API's {len(expected)} lesions")
    for row, lesion in zip(rows, expected):
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        volume = float(cells[2].replace(",", "").replace("\u202f", "").replace(" ", ""))
        check(abs(volume - lesion["volumeMm3"]) <= 0.5 + 1e-6, f"lesion {lesion['roiNumber']}: volume {cells[2]} against {lesion['volumeMm3']}")
        check(cells[5] == f"{lesion.get('firstSlice', 0) + 1}–{lesion.get('lastSlice', 0) + 1}", f"lesion {lesion['roiNumber']}: slices {cells[5]}")
    # Clicking the largest lesion centres the view on it: its contour colour is on the canvas.
    largest = max(range(len(expected)), key=lambda i: expected[i]["volumeMm3"])
    rows[largest].find_elements(By.TAG_NAME, "td")[1].click()
    time.sleep(0.5)
    coloured = coloured_pixels()
    check(coloured > 50, f"the lesion's contour is drawn over the slice ({coloured} coloured pixels)")
    toggle = rows[largest].find_element(By.CSS_SELECTOR, "input[type=checkbox]")
    toggle.click()
    hidden = coloured_pixels()
    check(hidden < coloured, f"the toggle hides the lesion's contour ({hidden} coloured pixels left)")
    toggle.click()
    shot("3-viewer-segmented")

    # Studies: sorted list with thumbnails; delete one through the confirmation dialog.
    driver.get(args.base + "/studies")
    wait.until(ec.presence_of_element_located((By.ID, "studies-table")))
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-uid="{args.delete}"]')))
    wait.until(lambda d: d.execute_script("return [...document.querySelectorAll('img.thumbnail')].every(i => i.complete && (i.naturalWidth > 0 || i.classList.contains('missing')))"))
    check(driver.execute_script("return document.querySelectorAll('img.thumbnail[src^=\"blob:\"]').length") >= 4, "each study has a thumbnail")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#studies-table tbody tr")) == 4, "four studies are listed")
    check("Segmented" in driver.find_element(By.CSS_SELECTOR, f'tr[data-uid="{args.study}"]').text, "the segmented study says so")
    automatic = driver.find_element(By.CSS_SELECTOR, f'tr[data-uid="{args.automatic}"]')
    check(automatic.find_elements(By.CSS_SELECTOR, ".arrival-dimse") and "MRI1" in automatic.text, f"the study sent over DICOM says from where: {automatic.text}")
    check(automatic.find_elements(By.CSS_SELECTOR, ".automatic-done"), f"the study segmented by its arrival rule says so: {automatic.text}")
    check(not driver.find_element(By.CSS_SELECTOR, f'tr[data-uid="{args.study}"]').find_elements(By.CSS_SELECTOR, ".arrival-dimse"), "an uploaded study has no DICOM mark")
    shot("4-studies")
    row.find_element(By.CSS_SELECTOR, ".delete-study").click()
    dialog = wait.until(ec.visibility_of_element_located((By.ID, "confirm")))
    named = row.find_elements(By.TAG_NAME, "td")[1].find_element(By.TAG_NAME, "strong").text
    check(named in dialog.text and "Mar 10, 2026" in dialog.text, f"the dialog names the patient ({named}) and the study: {dialog.text}")
    shot("5-delete-dialog")
    driver.find_element(By.ID, "confirm-ok").click()
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'tr[data-uid="{args.delete}"]'))
    check(api(f"/dicom-web/studies?StudyInstanceUID={args.delete}") == [], "the study is gone from storage")

    # Follow-up: the patient, three studies, the charts and RANO-BM.
    driver.get(args.base + "/tracking")
    wait.until(ec.presence_of_element_located((By.ID, "patients-table")))
    driver.find_element(By.CSS_SELECTOR, f'#patients-table a[href="/tracking/{args.patient}"]').click()
    chart = wait.until(ec.presence_of_element_located((By.ID, "volume-chart")))
    timeline = api(f"/api/v1/patients/{args.patient}/timeline")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#timeline-table tbody tr")) == 3, "three examinations in the timeline")
    check("research use" in driver.find_element(By.ID, "automatic-notice").text or "usage de recherche" in driver.find_element(By.ID, "automatic-notice").text,
          "the follow-up page says its lesions were found automatically")
    check(len(chart.find_elements(By.CSS_SELECTOR, "g.track")) == len(timeline["tracks"]), "one line per tracked lesion")
    categories = [a["category"] for a in timeline["assessments"]]
    check(categories == ["BASELINE", "PR", "PD"], f"RANO-BM from the API: {categories}")
    text = driver.find_element(By.ID, "timeline-table").text
    check("PR" in text and "PD" in text and "Baseline" in text, "the RANO-BM categories are shown")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#diameter-chart g.track")) == len(timeline["tracks"]), "the diameter chart too")
    shot("6-follow-up")

    # French.
    driver.find_element(By.ID, "language").click()
    wait.until(lambda d: "Suivi" in d.find_element(By.CSS_SELECTOR, "nav").text)
    check("Examens" in driver.find_element(By.TAG_NAME, "main").text, "the page switches to French")
    shot("7-follow-up-fr")

    errors = console_errors()
finally:
    try:
        errors = errors or console_errors()
    except Exception:
        pass
    driver.quit()

for entry in errors:
    print("JavaScript error:", entry["message"])
if errors:
    sys.exit(1)
print(f"{len(checked)} checks passed")
