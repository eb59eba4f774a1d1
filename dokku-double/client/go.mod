module mindroom.cloud/dokku-double/client

go 1.26
