#!/usr/bin/perl
# Builds the MaxMind DB files the tests use, offline, from documentation
# address ranges (RFC 5737, RFC 3849), so no real database is needed:
#
#   make-mmdb.pl DIR
#
# writes DIR/country.mmdb (GeoIP2-Country layout), DIR/asn.mmdb
# (GeoLite2-ASN layout), DIR/dbip-country.mmdb (DB-IP Country Lite
# layout: only country.iso_code) and DIR/corrupt.mmdb (not a database).
#
#   192.0.2.0/24       DE   AS64500
#   198.51.100.0/24    US   AS64501
#   203.0.113.0/24     -    AS64496   (no country: "unknown")
#   2001:db8:de::/48   DE   AS64500
#   2001:db8:5::/48    US   -
#
# remove_reserved_networks => 0 keeps these ranges (the writer drops
# reserved networks without a word otherwise); alias_ipv6_to_ipv4 => 1
# makes ::ffff:0:0/96 and 2002::/16 point at the IPv4 tree, as in
# the real files. Needs Debian's libmaxmind-db-writer-perl.
use strict;
use warnings;
# Debian 13's writer (0.300004) warns that it is deprecated (MaxMind's
# successor is written in Go and not packaged); it still writes correct
# files, which the tests check with mmdblookup. Only that warning is
# dropped.
BEGIN {
	$SIG{__WARN__} = sub {
		warn @_ unless $_[0] =~ /^MaxMind::DB::Writer::Tree is deprecated/;
	};
}
use MaxMind::DB::Writer::Tree;

my $dir = shift @ARGV or die "usage: $0 DIR\n";

my %types = (
	country => 'map',
	registered_country => 'map',
	continent => 'map',
	names => 'map',
	iso_code => 'utf8_string',
	code => 'utf8_string',
	en => 'utf8_string',
	geoname_id => 'uint32',
	autonomous_system_number => 'uint32',
	autonomous_system_organization => 'utf8_string',
);

sub tree {
	my ($type) = @_;
	return MaxMind::DB::Writer::Tree->new(
		ip_version => 6,
		record_size => 24,
		database_type => $type,
		languages => ['en'],
		description => { en => "dovecot-ipallow test $type" },
		map_key_type_callback => sub { $types{ $_[0] } },
		remove_reserved_networks => 0,
		alias_ipv6_to_ipv4 => 1,
	);
}

sub write_tree {
	my ($tree, $name) = @_;
	open my $fh, '>:raw', "$dir/$name" or die "$dir/$name: $!\n";
	$tree->write_tree($fh);
	close $fh or die "$dir/$name: $!\n";
}

my %geoname = (DE => 2921044, US => 6252001);
my %continent = (DE => 'EU', US => 'NA');
my @countries = (
	['192.0.2.0/24', 'DE'],
	['198.51.100.0/24', 'US'],
	['2001:db8:de::/48', 'DE'],
	['2001:db8:5::/48', 'US'],
);

my $country = tree('GeoIP2-Country');
my $dbip = tree('DBIP-Country-Lite');
for my $c (@countries) {
	my ($net, $cc) = @$c;
	$country->insert_network($net, {
		continent => { code => $continent{$cc} },
		country => { iso_code => $cc, geoname_id => $geoname{$cc},
			     names => { en => $cc } },
		registered_country => { iso_code => $cc,
					geoname_id => $geoname{$cc} },
	});
	$dbip->insert_network($net, { country => { iso_code => $cc } });
}
write_tree($country, 'country.mmdb');
write_tree($dbip, 'dbip-country.mmdb');

my $asn = tree('GeoLite2-ASN');
for my $a (['192.0.2.0/24', 64500, 'Example DE Carrier'],
	   ['198.51.100.0/24', 64501, 'Example US Carrier'],
	   ['203.0.113.0/24', 64496, 'Example Dynamic ISP'],
	   ['2001:db8:de::/48', 64500, 'Example DE Carrier']) {
	$asn->insert_network($a->[0], {
		autonomous_system_number => $a->[1],
		autonomous_system_organization => $a->[2],
	});
}
write_tree($asn, 'asn.mmdb');

open my $fh, '>:raw', "$dir/corrupt.mmdb" or die "$dir/corrupt.mmdb: $!\n";
print $fh "this is not a MaxMind DB file\n" x 10;
close $fh or die "$dir/corrupt.mmdb: $!\n";
