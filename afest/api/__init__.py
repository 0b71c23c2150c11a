"""The read-only JSON API for OPCO and structure systems (/api/v1): its tokens (tokens), its
documents (schemas), its reads (queries), its cursors (paging) and its errors (problems)."""
