"""Demo data: a generator of plausible Indian D2C customers and orders (`mini-crm seed`).

Not domain core: nothing in `mini_crm/core` imports this package. It writes through the
same tables and core helpers (contacts normalisation, suppression list) as real imports.
"""
