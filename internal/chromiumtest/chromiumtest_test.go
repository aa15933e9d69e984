package chromiumtest

import (
	"image"
	"image/color"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFigures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		dom     string
		want    []Figure
		wantErr bool
	}{
		{name: "none", dom: `<html><body><svg><path/></svg></body></html>`},
		{name: "drawn and empty", dom: `<figure class="chart" id="a"><figcaption>A</figcaption><svg><g><path d="M0"/><path/><text>x</text></g></svg></figure>` +
			`<figure class="chart" id="b"><p class="nodata">no data</p></figure><figure id="other"><svg></svg></figure>`,
			want: []Figure{{ID: "a", SVGs: 1, Paths: 2, Texts: 1}, {ID: "b", NoData: true}}},
		{name: "nested figure", dom: `<figure class="chart" id="n"><figure><svg><path/></svg></figure><path/></figure><path/>`,
			want: []Figure{{ID: "n", SVGs: 1, Paths: 2}}},
		{name: "unclosed", dom: `<figure class="chart" id="u"><svg>`, want: []Figure{{ID: "u", SVGs: 1}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Figures(tc.dom)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("figures (-want +got):\n%s", diff)
			}
		})
	}
	if !(Figure{SVGs: 1, Paths: 5}).Drawn(5) || (Figure{SVGs: 1, Paths: 4}).Drawn(5) || (Figure{Paths: 9}).Drawn(5) {
		t.Error("Drawn")
	}
}

func TestPixels(t *testing.T) {
	t.Parallel()
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	red := color.RGBA{0xd6, 0x27, 0x28, 0xff}
	for x := range 7 {
		img.Set(x, 3, red)
	}
	img.Set(9, 9, color.RGBA{0xd0, 0x2a, 0x28, 0xff}) // within 8
	img.Set(8, 8, color.RGBA{0xb0, 0x27, 0x28, 0xff}) // too far
	if n := Pixels(img, red, 8); n != 8 {
		t.Errorf("%d red pixels, want 8", n)
	}
}
