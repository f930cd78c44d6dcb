"""HTTP routes, one mixin per resource; ``gateway.service`` combines them."""
