"""What a user would otherwise write: walk the folder, pydicom dcmread(stop_before_pixels=True) for the
metadata, copy the original into a content-addressed folder (sha256 name). Prints JSON like bench/ingest-rss.ts."""
import hashlib, json, os, resource, shutil, sys, tempfile, time
import pydicom

src = sys.argv[1]
store = tempfile.mkdtemp(prefix='ingest-py-')
t0 = time.time()
rows, seen = [], set()
for root, _, files in os.walk(src):
    for name in sorted(files):
        path = os.path.join(root, name)
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        h = hashlib.sha256()
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
        digest = h.hexdigest()
        shutil.copyfile(path, os.path.join(store, digest))
        sop = str(ds.get('SOPInstanceUID', ''))
        if sop in seen:
            continue
        seen.add(sop)
        rows.append(dict(id=name, patient=hashlib.sha256(('salt\0' + str(ds.get('PatientID', ''))).encode()).hexdigest()[:16],
                         study=str(ds.get('StudyInstanceUID', '')), rows=int(ds.Rows), columns=int(ds.Columns), dicom=digest))
elapsed = time.time() - t0
shutil.rmtree(store)
print(json.dumps({'tool': 'pydicom dcmread(stop_before_pixels) + copy', 'files': len(rows), 'seconds': round(elapsed, 2),
                  'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
