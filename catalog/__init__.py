"""Shared electronic code lists (danh mục điện tử dùng chung), as versioned data."""
