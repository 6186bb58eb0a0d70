"""Edge modules that fetch customer data from the shop's systems (WooCommerce REST, CSV imports).

They do HTTP or file I/O and return pydantic models; they never touch the database, so the
caller decides what is stored and when.
"""
