"""scikit-learn models over OCR text and claim records: document type and triage."""
