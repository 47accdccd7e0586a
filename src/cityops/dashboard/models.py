"""The dashboard's own rows (DESIGN.md: "reads; rollups and warnings its own")."""
