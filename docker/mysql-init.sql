-- Users the shipped configuration expects (config/destinations/demo.toml).
CREATE USER IF NOT EXISTS 'sluice'@'%' IDENTIFIED WITH mysql_native_password BY 'sluice';
GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'sluice'@'%';
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app';
GRANT ALL PRIVILEGES ON demo.* TO 'app'@'%';
CREATE DATABASE IF NOT EXISTS demo;
