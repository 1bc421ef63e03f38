"""Downloads of campaign data for organizers: CSV and XLSX that spreadsheets open safely,
streamed as they are read, each one recorded (see docs/architecture.md, "Exports")."""
