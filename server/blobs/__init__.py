"""Photo blobs: resumable upload, hash check, image check, location stripped, thumbnails."""
