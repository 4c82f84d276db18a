"""Server-side figures (matplotlib, no pyplot state): the common frame (``figure``), the PK report (``pk``), score
courses with the forecast (``scores``) and in-silico trials (``trials``)."""
