region         = "eu-west-1"
instance_count = 3
enable_cdn     = true
tags = {
  team = "payments"
  env  = "staging"
}
azs         = ["eu-west-1a", "eu-west-1b"]
db_password = "tfvars-Pw-6666"
