-- For tests of large values: sessions of 2 GB and a few keys.
return {
  name = "big",
  limits = { bytes = "2GB", entries = 100 },
  system = { bytes = "4GB", sessions = 10 },
}
