"""web: the tenant's storefront page, its static files and a JSON info endpoint."""
