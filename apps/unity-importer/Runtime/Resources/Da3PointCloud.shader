// Da3/PointCloud: da3js point clouds (MeshTopology.Points) in the Built-in pipeline and URP.
// Unlit, no LightMode tag (URP draws such passes as SRPDefaultUnlit), so one shader serves both.
// - Colour: COLOR (8-bit sRGB from the file), converted to linear when the project is linear.
// - Confidence: TEXCOORD1.x; points below _ConfidenceThreshold are dropped when _HasConfidence = 1.
// - Size: the first SubShader expands each point into a camera-facing disk _PointSize world units
//   across (geometry shader: DX11/12, Vulkan, OpenGL Core); the second draws 1-pixel points where
//   geometry shaders are missing (Metal, GLES), still filtered by confidence.
Shader "Da3/PointCloud"
{
    Properties
    {
        _PointSize ("Point size (world units)", Float) = 0.01
        _ConfidenceThreshold ("Confidence threshold", Float) = 0
        [Toggle] _HasConfidence ("Has confidence", Float) = 0
        _Tint ("Tint", Color) = (1, 1, 1, 1)
    }

    CGINCLUDE
    #include "UnityCG.cginc"
    float _PointSize;
    float _ConfidenceThreshold;
    float _HasConfidence;
    fixed4 _Tint;

    struct appdata
    {
        float4 vertex : POSITION;
        fixed4 color : COLOR;
        float2 conf : TEXCOORD1;
    };

    fixed4 PointColor(fixed4 c)
    {
        #if !defined(UNITY_COLORSPACE_GAMMA)
        c.rgb = GammaToLinearSpace(c.rgb);
        #endif
        return c * _Tint;
    }

    float Keep(float2 conf)
    {
        return (_HasConfidence < 0.5 || conf.x >= _ConfidenceThreshold) ? 1.0 : 0.0;
    }
    ENDCG

    SubShader
    {
        Tags { "RenderType" = "Opaque" "Queue" = "Geometry" }
        Pass
        {
            Cull Off
            CGPROGRAM
            #pragma target 4.0
            #pragma require geometry
            #pragma vertex vert
            #pragma geometry geom
            #pragma fragment frag

            struct v2g { float4 view : TEXCOORD0; fixed4 color : COLOR; float keep : TEXCOORD1; };
            struct g2f { float4 pos : SV_POSITION; fixed4 color : COLOR; float2 uv : TEXCOORD0; };

            v2g vert(appdata v)
            {
                v2g o;
                o.view = float4(UnityObjectToViewPos(v.vertex.xyz), 1.0);
                o.color = PointColor(v.color);
                o.keep = Keep(v.conf);
                return o;
            }

            [maxvertexcount(4)]
            void geom(point v2g i[1], inout TriangleStream<g2f> stream)
            {
                if (i[0].keep < 0.5) return;
                float h = _PointSize * 0.5;
                g2f o;
                o.color = i[0].color;
                float2 corners[4] = { float2(-1, -1), float2(1, -1), float2(-1, 1), float2(1, 1) };
                [unroll] for (int k = 0; k < 4; k++)
                {
                    o.uv = corners[k];
                    o.pos = mul(UNITY_MATRIX_P, i[0].view + float4(corners[k] * h, 0, 0));
                    stream.Append(o);
                }
            }

            fixed4 frag(g2f i) : SV_Target
            {
                clip(1.0 - dot(i.uv, i.uv));
                return i.color;
            }
            ENDCG
        }
    }

    SubShader
    {
        Tags { "RenderType" = "Opaque" "Queue" = "Geometry" }
        Pass
        {
            CGPROGRAM
            #pragma vertex vert
            #pragma fragment frag

            struct v2f { float4 pos : SV_POSITION; fixed4 color : COLOR; float keep : TEXCOORD0; float size : PSIZE; };

            v2f vert(appdata v)
            {
                v2f o;
                o.pos = UnityObjectToClipPos(v.vertex);
                o.color = PointColor(v.color);
                o.keep = Keep(v.conf);
                o.size = 1.0;
                return o;
            }

            fixed4 frag(v2f i) : SV_Target
            {
                clip(i.keep - 0.5);
                return i.color;
            }
            ENDCG
        }
    }
}
