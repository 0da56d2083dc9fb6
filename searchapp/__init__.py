"""searchapp: full-text search for news articles, one paragraph per document."""
