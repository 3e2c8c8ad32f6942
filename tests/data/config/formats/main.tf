terraform {
  required_version = ">= 1.5"
  backend "s3" {
    bucket = "tf-state-staging"
  }
}

locals {
  name = "checkout-${var.env}"
}

resource "aws_instance" "web" {
  ami           = "ami-0abc"
  instance_type = var.size
  count         = 2

  ebs_block_device {
    device_name = "/dev/sdb"
    volume_size = 50
  }

  ebs_block_device {
    device_name = "/dev/sdc"
    volume_size = 100
  }

  lifecycle {
    ignore_changes = [tags]
  }

  user_data = <<-EOT
    #!/bin/sh
    export API_TOKEN=hcl-Heredoc-7777
    echo started
  EOT
}

resource "aws_db_instance" "main" {
  engine   = "postgres"
  password = "hcl-Pw-8888"
}
